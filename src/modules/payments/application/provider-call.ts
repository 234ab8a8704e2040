import type { OpContext } from '../../../platform/op-context.ts';

/**
 * Runs one provider call under the operation's cancellation plus a per-call timeout of `timeoutMs`
 * (config `payments.timeoutMs`).
 * @returns what the call returned, even when the operation was aborted meanwhile: an answer means
 * money may have moved, so the caller must still record it.
 * @throws the operation's abort reason when the caller went away (as `op.signal.throwIfAborted()`
 * would, so an abandoned request unwinds like any other aborted operation); otherwise whatever the
 * call threw (PaymentProviderUnavailableError for a timeout).
 */
export async function callProvider<T>(op: OpContext, timeoutMs: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = AbortSignal.any([op.signal, AbortSignal.timeout(timeoutMs)]);
  try {
    return await call(signal);
  } catch (error) {
    op.signal.throwIfAborted();
    throw error;
  }
}
