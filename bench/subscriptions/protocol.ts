// IPC messages between bench/subscriptions.ts and its client worker processes.

/** Deliveries of one event to one worker's sockets: commit time and receive − commit per socket (ms). */
export interface EventDeliveries {
  /** `<order global id>@<version>` */
  readonly key: string;
  /** The event's commit time (its status-history `at`), epoch ms. */
  readonly at: number;
  readonly latencies: Float64Array;
}

/** Parent → worker. */
export type ClientCommand =
  | {
      readonly type: 'connect';
      /** ws://…/graphql */
      readonly url: string;
      readonly token: string;
      readonly count: number;
      /** Handshakes in flight at once. */
      readonly concurrency: number;
      readonly query: string;
      readonly variables: Record<string, unknown>;
      /** Loopback address the sockets connect from (127.0.0.x): each gives ~28,000 ephemeral ports. */
      readonly localAddress?: string;
    }
  | { readonly type: 'reset' }
  | { readonly type: 'report' }
  | { readonly type: 'close' };

/** Worker → parent. */
export type ClientReply =
  | { readonly type: 'ready' }
  | { readonly type: 'connected'; readonly open: number; readonly failed: number; readonly ms: number; readonly failure?: string }
  | { readonly type: 'reset'; readonly cpuMs: number }
  | {
      readonly type: 'report';
      readonly open: number;
      readonly events: EventDeliveries[];
      readonly errors: number;
      readonly unexpectedCloses: number;
      /** The worker's CPU time so far (user + system), ms: the load generator's own cost. */
      readonly cpuMs: number;
      readonly firstError?: string;
    }
  | { readonly type: 'closed' };
