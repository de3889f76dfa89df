/// A loopback port nobody listens on right now. The OS hands out ephemeral ports in
/// rotation, so a port just released is unlikely to be handed to someone else before the
/// caller binds it.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding 127.0.0.1:0 always succeeds on a machine with loopback")
}
