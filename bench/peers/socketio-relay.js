// The Socket.IO peer: a minimal relay with the sharded Redis adapter (Redis 7 SSUBSCRIBE).
// A client joins the room named in its handshake query; a "msg" event goes to every socket
// of the room on every node (the sender's included, as livehelp echoes a sender's own).
//   node socketio-relay.js <port> <redis-port>
const { createServer } = require("http");
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createShardedAdapter } = require("@socket.io/redis-adapter");

const [port, redisPort] = process.argv.slice(2).map(Number);

async function main() {
  const pubClient = createClient({ url: `redis://127.0.0.1:${redisPort}` });
  const subClient = pubClient.duplicate();
  await Promise.all([pubClient.connect(), subClient.connect()]);
  const httpServer = createServer((req, res) => {
    res.writeHead(req.url === "/readyz" ? 200 : 404);
    res.end();
  });
  const io = new Server(httpServer, {
    adapter: createShardedAdapter(pubClient, subClient),
    transports: ["websocket"],
    serveClient: false,
  });
  io.on("connection", async (socket) => {
    const room = String(socket.handshake.query.room || "");
    await socket.join(room);
    socket.on("msg", (data) => io.to(room).emit("msg", data));
    socket.emit("joined");
  });
  httpServer.listen(port, "127.0.0.1");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
