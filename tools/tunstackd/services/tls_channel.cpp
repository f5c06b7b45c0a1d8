// TlsChannel: the server side of TLS on an accepted socket, for https and tls-echo (channel.hpp):
// the server lifecycle around a tools::TlsChannel (tools/common/channel.hpp), which moves the bytes.
//
// Lifecycle: the handshake runs inside begin() on every socket event until it completes (then the
// session runs), fails (a fatal alert goes out if TLS allows one, then FIN), or its deadline passes
// (the peer stalled: FIN, no alert, counted tls.handshake_failed.timeout). An orderly close sends
// close_notify after the output already queued, then FIN; if the peer does not take those bytes
// before the close deadline, the connection is reset. A TCP reset or timeout under the session ends
// it as peer_reset. Whatever happens, only this connection is affected.
//
// Before closing the socket the channel reads and drops what the peer sent but nobody will read:
// closing with unread data would reset the connection (RFC 2525 §2.17) and could destroy the alert
// or close_notify still in flight. A close that asks to linger (an http error reply) keeps the
// socket after close_notify and FIN and drops input until the peer's FIN (LingeringClose).
#include <functional>

#include "tls/session.hpp"
#include "tools/common/channel.hpp"
#include "tools/tunstackd/services/channel.hpp"

namespace tunstackd {

namespace {

using Phase = tls::TlsSession::Phase;

class TlsChannel final : public Channel {
public:
    TlsChannel(stack::tcp::TcpLayer& tcp, stack::SocketHandle h, stack::Instant now,
               const TlsChannelOptions& options, std::function<void(const std::string&)> log)
        : tcp_(tcp),
          h_(h),
          options_(options),
          log_(std::move(log)),
          handshake_deadline_(now + options.handshake_timeout) {}

    bool init(std::shared_ptr<const tls::ServerConfig> config, tls::TlsStats& counters) {
        auto c = tools::TlsChannel::server(tcp_, h_, std::move(config), &counters);
        if (!c) {
            report("cannot start TLS: " + c.error().message());
            return false;
        }
        tls_ = std::move(*c);
        return true;
    }

    Gate begin(stack::Instant now, std::uint8_t bits) override {
        if (closed_) return Gate::Done;
        if (linger_.active()) {  // after close_notify and FIN: dropping what the peer still sends
            closed_ = linger_.pump(now, tcp_, h_);
            return closed_ ? Gate::Done : Gate::Wait;
        }
        if (!tls_) {
            hang_up(now, true);
            return Gate::Done;
        }
        // Records that arrived before a reset are still in the socket: let the handshake consume
        // them first (a client that resumes a session and resets at once has completed it), then
        // end the session as reset if it is not over yet.
        session()->advance();
        if ((bits & stack::kEventError) != 0 && session()->phase() != Phase::Failed &&
            session()->phase() != Phase::Closed) {
            const auto e = tcp_.error(h_).value_or(stack::SocketError::Reset);
            session()->fail(tls::Reason::PeerReset, std::string(stack::to_string(e)));
        }
        return settle(now);
    }

    Io recv(stack::MutBytes out) override {
        if (closed_ || !tls_) return Io{0, true};
        return tls_->recv(out);
    }

    Io send(stack::Bytes data) override {
        if (closed_ || !tls_) return Io{0, true};
        return tls_->send(data);
    }

    bool peer_finished() const override { return tls_ && tls_->peer_finished(); }

    void close(stack::Instant now, bool linger) override {
        if (closed_ || linger_.active()) return;
        linger_requested_ = linger;
        if (tls_ && session()->phase() != Phase::Failed) {
            session()->close();
            close_deadline_ = now + options_.close_timeout;
        }
        (void)settle(now);
    }

    void abort(stack::Instant now) override {
        if (closed_) return;
        (void)tcp_.abort(now, h_);
        closed_ = true;
        failed_ = true;
    }

    bool closed() const override { return closed_; }
    bool failed() const override { return failed_; }

    stack::Instant deadline() const override {
        if (closed_) return stack::Instant::never();
        if (linger_.active()) return linger_.deadline();
        if (!tls_) return stack::Instant::never();
        switch (session()->phase()) {
            case Phase::Handshake: return handshake_deadline_;
            case Phase::Closing: return close_deadline_;
            default: return stack::Instant::never();
        }
    }

    void on_deadline(stack::Instant now) override {
        if (closed_ || now < deadline()) return;
        if (linger_.active()) {
            closed_ = linger_.pump(now, tcp_, h_);
            return;
        }
        if (!tls_) return;
        if (session()->phase() == Phase::Handshake) {
            session()->fail(tls::Reason::Timeout,
                            "no complete handshake within " +
                                std::to_string(options_.handshake_timeout.as_millis() / 1000) +
                                " s");
            (void)settle(now);
        } else if (session()->phase() == Phase::Closing) {
            abort(now);  // the peer does not take our close_notify: give up on it
        }
    }

private:
    tls::TlsSession* session() const { return &tls_->session(); }

    Gate settle(stack::Instant now) {
        switch (session()->phase()) {
            case Phase::Handshake: return Gate::Wait;
            case Phase::Open: return Gate::Ready;
            case Phase::Closing: return Gate::Wait;
            case Phase::Closed: hang_up(now, false); return closed_ ? Gate::Done : Gate::Wait;
            case Phase::Failed: {
                // Every failed handshake is worth a line; after the handshake a peer that resets or
                // closes without close_notify is routine (counted, not logged).
                const tls::Reason r = session()->error()->reason;
                if (!session()->handshake_done()) {
                    report("TLS handshake failed: ", session()->error()->message());
                } else if (r != tls::Reason::PeerReset && r != tls::Reason::PeerClosed) {
                    report("TLS session failed: ", session()->error()->message());
                }
                hang_up(now, true);
                return Gate::Done;
            }
        }
        return Gate::Wait;
    }

    // Drops unread input (so close sends FIN, not RST), then releases the socket. A fatal alert or
    // close_notify still queued in TCP goes out before the FIN. After a close asked to linger, the
    // socket is kept (closed_ stays false) and its input dropped until the peer finishes.
    void hang_up(stack::Instant now, bool failed) {
        if (closed_ || linger_.active()) return;
        std::uint8_t sink[4096];
        for (int i = 0; i < 64; ++i) {
            auto n = tcp_.recv(h_, stack::MutBytes(sink, sizeof sink));
            if (!n || *n == 0) break;
        }
        if (failed && tls_ && session()->has_pending_output()) {
            // The alert did not fit in the socket: nothing better to do than a reset.
            (void)tcp_.abort(now, h_);
        } else if (!failed && linger_requested_) {
            linger_.start(now, tcp_, h_);  // the session already shut the sending side
            // Everything of TLS went out: free its buffers and session slot while lingering.
            tls_.reset();
            if (!linger_.pump(now, tcp_, h_)) return;
        } else {
            (void)tcp_.close(now, h_);
        }
        closed_ = true;
        failed_ = failed;
    }

    void report(const std::string& what, const std::string& why = {}) {
        if (!log_) return;
        std::string peer = "?";
        if (auto info = tcp_.info(h_)) {
            peer = info->remote.addr.to_string() + ":" + std::to_string(info->remote.port);
        }
        log_("tls: " + peer + ": " + what + why);
    }

    stack::tcp::TcpLayer& tcp_;
    stack::SocketHandle h_;
    TlsChannelOptions options_;
    std::function<void(const std::string&)> log_;
    stack::Instant handshake_deadline_;
    stack::Instant close_deadline_ = stack::Instant::never();
    std::unique_ptr<tools::TlsChannel> tls_;  // null: TLS could not start, or over (lingering)
    LingeringClose linger_;
    bool linger_requested_ = false;
    bool closed_ = false;
    bool failed_ = false;
};

}  // namespace

std::unique_ptr<Channel> make_tls_channel(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                          stack::Instant now,
                                          std::shared_ptr<const tls::ServerConfig> config,
                                          tls::TlsStats& counters, const TlsChannelOptions& options,
                                          std::function<void(const std::string&)> log) {
    auto c = std::make_unique<TlsChannel>(tcp, h, now, options, std::move(log));
    (void)c->init(std::move(config), counters);  // a failed init hangs up at the first event
    return c;
}

}  // namespace tunstackd
