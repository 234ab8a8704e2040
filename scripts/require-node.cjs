// Runs before `npm start`, `npm test`, `npm run migrate|seed`: plain CommonJS so that any old node can parse it.
'use strict';
const required = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major !== required) {
  process.stderr.write(
    '\nOrdergraph needs Node.js ' + required + ' LTS, but this is Node.js ' + process.versions.node + ' (' + process.execPath + ').\n' +
      'The project installs its own Node ' + required + ' through the `node` devDependency: run `npm ci` (without --ignore-scripts)\n' +
      'and start it through npm (`npm start`, `npm test`), which puts node_modules/.bin/node first on the PATH.\n\n',
  );
  process.exit(1);
}
