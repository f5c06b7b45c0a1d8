#include "tools/common/channel.hpp"

namespace tools {

// ---- TcpChannel ---------------------------------------------------------------------------------

Channel::Io TcpChannel::recv(stack::MutBytes out) {
    auto n = tcp_.recv(h_, out);
    if (!n) {
        error_ = n.error();
        return Io{0, true};
    }
    return Io{*n, false};
}

Channel::Io TcpChannel::send(stack::Bytes data) {
    auto n = tcp_.send(h_, data);
    if (!n) {
        error_ = n.error();
        return Io{0, true};
    }
    return Io{*n, false};
}

bool TcpChannel::peer_finished() const { return tcp_.eof(h_).value_or(true); }

// ---- TlsChannel ---------------------------------------------------------------------------------

stack::Result<std::unique_ptr<TlsChannel>, tls::Error> TlsChannel::server(
    stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
    std::shared_ptr<const tls::ServerConfig> config, tls::TlsStats* counters) {
    std::unique_ptr<TlsChannel> c(new TlsChannel(tcp, h));
    auto s = tls::TlsSession::server(std::move(config), c->stream_, counters);
    if (!s) return stack::Err(s.error());
    c->session_ = std::move(*s);
    return c;
}

stack::Result<std::unique_ptr<TlsChannel>, tls::Error> TlsChannel::client(
    stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
    std::shared_ptr<const tls::ClientConfig> config, const tls::ClientTarget& target,
    tls::TlsStats* counters) {
    std::unique_ptr<TlsChannel> c(new TlsChannel(tcp, h));
    auto s = tls::TlsSession::client(std::move(config), c->stream_, target, counters);
    if (!s) return stack::Err(s.error());
    c->session_ = std::move(*s);
    return c;
}

Channel::Io TlsChannel::recv(stack::MutBytes out) {
    auto r = session_->read(out);
    if (!r) {
        error_ = r.error();
        return Io{0, true};
    }
    return Io{*r, false};
}

Channel::Io TlsChannel::send(stack::Bytes data) {
    auto r = session_->write(data);
    if (!r) {
        error_ = r.error();
        return Io{0, true};
    }
    return Io{*r, false};
}

}  // namespace tools
