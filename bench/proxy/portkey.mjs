// Starts the Portkey gateway (installed here by npm, see package.json) bound to
// 127.0.0.1. Its start script listens on every interface and has no host flag,
// so this wrapper makes a listen() without a host use 127.0.0.1, then runs the
// unmodified start script with our argv (e.g. --port=18404 --headless).
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number') {
    if (args.length === 1 || args[1] === undefined || args[1] === null) {
      args[1] = '127.0.0.1';
    } else if (typeof args[1] === 'function') {
      args.splice(1, 0, '127.0.0.1');
    }
  }
  return listen.apply(this, args);
};

await import('./node_modules/@portkey-ai/gateway/build/start-server.js');
