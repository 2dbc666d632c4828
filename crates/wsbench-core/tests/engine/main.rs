//! Integration tests of the engine against servers the tests start on 127.0.0.1:0.
//! One binary, a module per area (see ripgrep's tests/tests.rs).

mod proxy_support;
mod support;

mod catalogue;
mod collections;
mod connect;
mod crash;
mod deflate;
mod events;
mod export;
mod frame_log;
mod fuzz;
mod history;
mod import;
mod import_sio;
mod keepalive;
mod lifecycle;
mod proxy;
mod scenario;
mod security;
mod sio_export;
mod sio_node;
mod socketio;
mod tls;
mod tls_words;
mod vars;
