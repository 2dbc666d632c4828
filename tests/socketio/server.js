// A stock Socket.IO chat server for wsbench's Socket.IO tests, for socket.io v4 and v2.
//
//   SIO_DIR=<dir holding node_modules/socket.io> PORT=0 node server.js
//
// Prints "PORT <n>" once listening. Env: PING_INTERVAL, PING_TIMEOUT (ms).
// Main namespace:
//   chat ...args    -> broadcast to everyone (sender included); ack("sent") if asked
//   typing ...args  -> broadcast to the others
//   echo ...args, ack -> ack(...args)
//   bin ...args     -> emit "bin" back with the same args (binary included)
//   ask ...args     -> emit "question" with an ack request; the answer comes back as "answered"
// Namespace /admin: joins with auth {token: "secret"} (v4) or query token=secret (v2);
//   else CONNECT_ERROR "Not authorized". "whoami", ack -> ack("admin", socket.id).
const path = require("path");
const http = require("http");

const dir = process.env.SIO_DIR;
if (!dir) {
  console.error("SIO_DIR is not set");
  process.exit(2);
}
const sio = require(path.join(path.resolve(dir), "node_modules", "socket.io"));
const opts = {
  pingInterval: Number(process.env.PING_INTERVAL || 25000),
  pingTimeout: Number(process.env.PING_TIMEOUT || 20000),
};
const server = http.createServer();
const io = sio.Server ? new sio.Server(server, opts) : sio(server, opts);

// An ack callback, when the client asked for one, is the last argument.
const split = (args) => (typeof args[args.length - 1] === "function" ? [args.slice(0, -1), args[args.length - 1]] : [args, null]);

io.on("connection", (socket) => {
  socket.on("chat", (...all) => {
    const [args, ack] = split(all);
    io.emit("chat", ...args);
    if (ack) ack("sent");
  });
  socket.on("typing", (...all) => socket.broadcast.emit("typing", ...split(all)[0]));
  socket.on("echo", (...all) => {
    const [args, ack] = split(all);
    if (ack) ack(...args);
  });
  socket.on("bin", (...all) => socket.emit("bin", ...split(all)[0]));
  socket.on("binack", (ack) => ack(Buffer.from([1, 2, 3]), "done"));
  socket.on("ask", (...all) => {
    const args = split(all)[0];
    socket.emit("question", ...args, (...answer) => socket.emit("answered", ...answer));
  });
});

const admin = io.of("/admin");
admin.use((socket, next) => {
  const auth = socket.handshake.auth || {};
  const query = socket.handshake.query || {};
  if (auth.token === "secret" || query.token === "secret") return next();
  next(new Error("Not authorized"));
});
admin.on("connection", (socket) => {
  socket.on("whoami", (ack) => ack("admin", socket.id));
});

server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  console.log("PORT " + server.address().port);
});
