// The virtual bench's MQTT broker: a real broker (aedes) in-process, on loopback only, so the
// relay drivers talk real MQTT over real TCP exactly as they do to a lab's broker.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(options: { port?: number } = {}): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  // Without TCP_NODELAY, Nagle + delayed ACK add ~40 ms to each small MQTT exchange on loopback.
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      // Connections that never sent CONNECT are not aedes clients yet; without this server.close() would wait on them.
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
