/** Listening and closing helpers for the Node HTTP servers (the samples' server and the seed editor's). */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Listens on `host`:`port` (0: any free port); resolves with the port actually bound, rejects on a listen error. */
export async function ListenAsync(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolvePromise();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Stops listening and closes open (keep-alive) connections. */
export function CloseServerAsync(server: Server): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.close((error) => (error ? reject(error) : resolvePromise()));
    server.closeAllConnections();
  });
}
