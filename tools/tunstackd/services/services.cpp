#include "tools/tunstackd/services/services.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "tools/tunstackd/services/iperf3_service.hpp"

namespace tunstackd {

namespace {
constexpr std::uint32_t kBacklog = 1024;
}

std::string_view to_string(ServiceKind kind) {
    switch (kind) {
        case ServiceKind::Echo: return "echo";
        case ServiceKind::Discard: return "discard";
        case ServiceKind::Chargen: return "chargen";
        case ServiceKind::Http: return "http";
        case ServiceKind::Https: return "https";
        case ServiceKind::TlsEcho: return "tls-echo";
        case ServiceKind::Iperf3: return "iperf3";
    }
    return "?";
}

std::optional<ServiceSpec> parse_service_spec(std::string_view text, std::string& error) {
    const std::size_t colon = text.find(':');
    const std::string_view name = text.substr(0, colon);
    ServiceSpec spec;
    if (name == "echo") {
        spec.kind = ServiceKind::Echo;
    } else if (name == "discard") {
        spec.kind = ServiceKind::Discard;
    } else if (name == "chargen") {
        spec.kind = ServiceKind::Chargen;
    } else if (name == "http") {
        spec.kind = ServiceKind::Http;
    } else if (name == "https") {
        spec.kind = ServiceKind::Https;
    } else if (name == "tls-echo") {
        spec.kind = ServiceKind::TlsEcho;
    } else if (name == "iperf3") {
        spec.kind = ServiceKind::Iperf3;
    } else {
        error = "--serve '" + std::string(text) +
                "': unknown service (expected echo:PORT, discard:PORT, chargen:PORT, http:PORT, "
                "https:PORT, tls-echo:PORT or iperf3:PORT)";
        return std::nullopt;
    }
    const std::string_view port = colon == std::string_view::npos ? "" : text.substr(colon + 1);
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value < 1 ||
        value > 65535) {
        error = "--serve '" + std::string(text) + "': expected " + std::string(name) +
                ":PORT with PORT in 1..65535";
        return std::nullopt;
    }
    spec.port = static_cast<std::uint16_t>(value);
    return spec;
}

// ---- PlainChannel ----------------------------------------------------------------------------------

Channel::Gate PlainChannel::begin(stack::Instant now, std::uint8_t /*bits*/) {
    if (!closed_ && linger_.active()) {
        closed_ = linger_.pump(now, tcp_, h_);
        return closed_ ? Gate::Done : Gate::Wait;
    }
    return closed_ ? Gate::Done : Gate::Ready;
}

// ---- LingeringClose -------------------------------------------------------------------------------

void LingeringClose::start(stack::Instant now, stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                           const LingerOptions& options) {
    options_ = options;
    started_ = last_input_ = now;
    dropped_ = 0;
    active_ = true;
    (void)tcp.shutdown(h);  // FIN after the reply already queued; reading continues
}

stack::Instant LingeringClose::deadline() const {
    if (!active_) return stack::Instant::never();
    return std::min(started_ + options_.time, last_input_ + options_.timeout);
}

bool LingeringClose::pump(stack::Instant now, stack::tcp::TcpLayer& tcp, stack::SocketHandle h) {
    if (!active_) return true;
    std::array<std::uint8_t, 4096> sink;  // write-only: what the peer sends is dropped
    // Bounded by the receive buffer: each round takes what is readable now.
    for (int guard = 0; guard < 1024; ++guard) {
        auto n = tcp.recv(h, stack::MutBytes(sink.data(), sink.size()));
        if (!n || *n == 0) break;
        dropped_ += *n;
        last_input_ = now;
        if (dropped_ > options_.max_bytes) break;
    }
    if (tcp.error(h) || tcp.eof(h).value_or(true) || dropped_ > options_.max_bytes ||
        now >= deadline()) {
        release(now, tcp, h);
        return true;
    }
    return false;
}

void LingeringClose::release(stack::Instant now, stack::tcp::TcpLayer& tcp, stack::SocketHandle h) {
    (void)tcp.close(now, h);  // nothing unread unless a bound was hit: then RST, as Linux
    active_ = false;
}

// ---- PlainChannel (continued) ----------------------------------------------------------------------

void PlainChannel::close(stack::Instant now, bool linger) {
    if (closed_ || linger_.active()) return;
    failed_ = failed_ || tcp_.error(h_).has_value();
    if (linger && !failed_) {
        linger_.start(now, tcp_, h_);
        closed_ = linger_.pump(now, tcp_, h_);
        return;
    }
    (void)tcp_.close(now, h_);
    closed_ = true;
}

stack::Instant PlainChannel::deadline() const {
    return closed_ ? stack::Instant::never() : linger_.deadline();
}

void PlainChannel::on_deadline(stack::Instant now) {
    if (closed_ || !linger_.active() || now < linger_.deadline()) return;
    closed_ = linger_.pump(now, tcp_, h_);
}

void PlainChannel::abort(stack::Instant now) {
    if (closed_) return;
    (void)tcp_.abort(now, h_);
    closed_ = true;
    failed_ = true;
}

// ---- Session ---------------------------------------------------------------------------------------

Session::Session(stack::tcp::TcpLayer& tcp, stack::SocketHandle h, ServiceCounters& counters)
    : tcp_(tcp), h_(h), counters_(counters), channel_(std::make_unique<PlainChannel>(tcp, h)) {}

Session::~Session() = default;

void Session::handle(stack::Instant now, std::uint8_t bits) {
    const Channel::Gate gate = channel_->begin(now, bits);
    if (done_) return;  // finishing: the channel was only completing its close
    if (gate == Channel::Gate::Done) {
        done_ = true;
        if (channel_->failed()) {
            ++counters_.errors;
        } else {
            ++counters_.closed;
        }
        return;
    }
    if (gate == Channel::Gate::Ready) on_event(now, bits);
}

void Session::on_deadline(stack::Instant now) {
    channel_->on_deadline(now);
    if (!done_ && channel_->closed()) {
        done_ = true;
        ++counters_.errors;
    }
    if (!done_ && now >= timeout_at()) on_timeout(now);
}

stack::Instant Session::deadline() const {
    const stack::Instant own = done_ ? stack::Instant::never() : timeout_at();
    return std::min(channel_->deadline(), own);
}

void Session::finish(stack::Instant now, bool error, bool linger) {
    if (done_) return;
    channel_->close(now, linger);
    done_ = true;
    if (error || channel_->failed()) {
        ++counters_.errors;
    } else {
        ++counters_.closed;
    }
}

void Session::abort(stack::Instant now) {
    channel_->abort(now);  // also a TLS close still waiting for the peer to take close_notify
    if (done_) return;
    done_ = true;
    ++counters_.errors;
}

std::size_t Session::recv(stack::Instant now, stack::MutBytes out) {
    if (done_) return 0;
    const Channel::Io io = channel_->recv(out);
    if (io.failed) {
        finish(now, true);
        return 0;
    }
    counters_.bytes_in += io.n;
    return io.n;
}

std::size_t Session::send(stack::Instant now, stack::Bytes data) {
    if (done_ || data.empty()) return 0;
    const Channel::Io io = channel_->send(data);
    if (io.failed) {
        finish(now, true);
        return 0;
    }
    counters_.bytes_out += io.n;
    return io.n;
}

void Session::drain(stack::Instant now) {
    draining_ = true;
    finish(now, false);
}

bool Session::peer_finished() const { return channel_->peer_finished(); }

namespace {

bool failed(std::uint8_t bits) { return (bits & stack::kEventError) != 0; }

// RFC 862: everything received is sent back. Reads stop while the echo cannot be sent (the
// peer's window then closes), and the FIN is echoed once all data has been.
class EchoSession final : public Session {
public:
    using Session::Session;
    void drain(stack::Instant now) override {
        draining_ = true;
        on_event(now, 0);
    }
    void on_event(stack::Instant now, std::uint8_t bits) override {
        if (failed(bits)) return finish(now, true);
        for (int guard = 0; guard < 1024 && !done_; ++guard) {
            if (head_ < tail_) {
                const std::size_t n = send(now, stack::Bytes(buf_.data() + head_, tail_ - head_));
                head_ += n;
                if (head_ < tail_) return;  // wait for kEventWritable
                continue;
            }
            head_ = tail_ = 0;
            if (draining_) return finish(now, false);  // everything read was echoed
            const std::size_t n = recv(now, stack::MutBytes(buf_.data(), buf_.size()));
            if (n == 0) {
                if (!done_ && peer_finished()) finish(now, false);
                return;
            }
            tail_ = n;
        }
    }

private:
    std::array<std::uint8_t, 65536> buf_{};
    std::size_t head_ = 0, tail_ = 0;
};

}  // namespace

namespace {

class Drainer : public Session {
public:
    using Session::Session;
    void drain_input(stack::Instant now) {
        for (int guard = 0; guard < 4096 && !done_; ++guard) {
            if (recv(now, stack::MutBytes(scratch_.data(), scratch_.size())) == 0) return;
        }
    }

private:
    std::array<std::uint8_t, 16384>
        scratch_{};  // write-only: received bytes land here and are dropped
};

// RFC 863: everything received is thrown away; the connection ends when the peer's does.

class DiscardImpl final : public Drainer {
public:
    using Drainer::Drainer;
    void drain(stack::Instant now) override {
        draining_ = true;
        drain_input(now);
        finish(now, false);
    }
    void on_event(stack::Instant now, std::uint8_t bits) override {
        if (failed(bits)) return finish(now, true);
        drain_input(now);
        if (!done_ && peer_finished()) finish(now, false);
    }
};

// RFC 864: lines of 72 printable ASCII characters, each line starting one character further along
// the 95-character cycle ' '..'~', ended by CR LF. Sent as fast as the peer accepts: every event
// fills the send buffer. Anything received is discarded; the peer's FIN ends the session.
class ChargenImpl final : public Drainer {
public:
    static constexpr std::size_t kLine = 74, kCycle = 95, kPattern = kLine * kCycle;
    ChargenImpl(stack::tcp::TcpLayer& tcp, stack::SocketHandle h, ServiceCounters& c)
        : Drainer(tcp, h, c) {
        for (std::size_t line = 0; line < kCycle; ++line) {
            for (std::size_t i = 0; i < 72; ++i) {
                pattern_[line * kLine + i] = static_cast<std::uint8_t>(' ' + (line + i) % kCycle);
            }
            pattern_[line * kLine + 72] = '\r';
            pattern_[line * kLine + 73] = '\n';
        }
        // A second copy lets every send take a long contiguous run from any offset.
        std::copy(pattern_.begin(), pattern_.begin() + kPattern, pattern_.begin() + kPattern);
    }
    void drain(stack::Instant now) override {
        draining_ = true;
        drain_input(now);
        finish(now, false);
    }
    void on_event(stack::Instant now, std::uint8_t bits) override {
        if (failed(bits)) return finish(now, true);
        drain_input(now);
        if (!done_ && peer_finished()) return finish(now, false);
        for (int guard = 0; guard < 4096 && !done_; ++guard) {
            const std::size_t n = send(now, stack::Bytes(pattern_.data() + offset_, kPattern));
            if (n == 0) return;
            offset_ = (offset_ + n) % kPattern;
        }
    }

private:
    std::array<std::uint8_t, 2 * kPattern> pattern_{};
    std::size_t offset_ = 0;
};

}  // namespace

std::unique_ptr<Session> make_echo(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                   ServiceCounters& c) {
    return std::make_unique<EchoSession>(tcp, h, c);
}
std::unique_ptr<Session> make_discard(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                      ServiceCounters& c) {
    return std::make_unique<DiscardImpl>(tcp, h, c);
}
std::unique_ptr<Session> make_chargen(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                      ServiceCounters& c) {
    return std::make_unique<ChargenImpl>(tcp, h, c);
}

// ---- ServiceHost -----------------------------------------------------------------------------------

ServiceHost::ServiceHost(stack::tcp::TcpLayer& tcp, std::string www_root, int www_fd)
    : tcp_(tcp), www_root_(std::move(www_root)), www_fd_(www_fd) {}

ServiceHost::~ServiceHost() = default;

void ServiceHost::set_tls(std::shared_ptr<const tls::ServerConfig> config,
                          const TlsServiceOptions& options) {
    tls_config_ = std::move(config);
    tls_options_ = options;
}

void ServiceHost::replace_tls_config(std::shared_ptr<const tls::ServerConfig> config) {
    tls_config_ = std::move(config);
}

stack::Result<void, std::string> ServiceHost::start(const std::vector<ServiceSpec>& specs) {
    for (const ServiceSpec& spec : specs) {
        const std::string label =
            std::string(to_string(spec.kind)) + ":" + std::to_string(spec.port);
        if (is_tls(spec.kind)) {
            if (!tls_config_) return stack::Err("--serve " + label + ": no TLS configuration");
            serves_tls_ = true;
        }
        auto h = tcp_.listen(spec.port, kBacklog);
        if (!h) {
            return stack::Err(std::string("--serve " + label + ": cannot listen: " +
                                          std::string(stack::to_string(h.error()))));
        }
        auto l = std::make_unique<Listener>();
        l->spec = spec;
        l->handle = *h;
        if (spec.kind == ServiceKind::Iperf3) l->iperf3 = std::make_shared<Iperf3Hub>(tcp_, wakes_);
        if (access_log_ && serves_files(spec.kind)) l->counters.access_log = &access_log_;
        by_listener_[key(*h)] = l.get();
        listeners_.push_back(std::move(l));
    }
    return stack::Ok{};
}

void ServiceHost::log_limited(stack::Instant now, const std::string& line) {
    constexpr unsigned kLinesPerWindow = 100;
    if (!log_) return;
    if (now - log_window_ >= stack::Duration::seconds(10)) {
        if (log_suppressed_ > 0) {
            log_(std::to_string(log_suppressed_) + " more connection messages suppressed");
        }
        log_window_ = now;
        log_lines_ = 0;
        log_suppressed_ = 0;
    }
    if (log_lines_ < kLinesPerWindow) {
        ++log_lines_;
        log_(line);
    } else {
        ++log_suppressed_;
    }
}

std::unique_ptr<Session> ServiceHost::make_session(Listener& l, stack::SocketHandle h,
                                                   stack::Instant now) {
    std::unique_ptr<Session> s;
    switch (l.spec.kind) {
        case ServiceKind::Echo:
        case ServiceKind::TlsEcho: s = make_echo(tcp_, h, l.counters); break;
        case ServiceKind::Discard: s = make_discard(tcp_, h, l.counters); break;
        case ServiceKind::Chargen: s = make_chargen(tcp_, h, l.counters); break;
        case ServiceKind::Http:
        case ServiceKind::Https:
            s = make_http(tcp_, h, l.counters, www_root_, www_fd_, http_options_, now);
            break;
        case ServiceKind::Iperf3: s = l.iperf3->make_session(h, l.counters, now); break;
    }
    if (s && is_tls(l.spec.kind)) {
        TlsChannelOptions o;
        o.handshake_timeout = tls_options_.handshake_timeout;
        s->use_channel(
            make_tls_channel(tcp_, h, now, tls_config_, tls_counters_, o,
                             [this](const std::string& line) { log_limited(now_, line); }));
    }
    return s;
}

void ServiceHost::reschedule(std::uint64_t k, const Session& s) {
    const std::int64_t at = s.deadline().as_micros();
    auto it = scheduled_.find(k);
    if (it != scheduled_.end()) {
        // An entry at or before the new deadline stays: it fires early, the session sees its
        // deadline has not come (on_deadline checks) and settle() schedules the real one. So a
        // deadline pushed on by every event (an http session's progress timers) costs no set
        // update per event.
        if (it->second <= at) return;
        deadlines_.erase({it->second, k});
        scheduled_.erase(it);
    }
    if (s.deadline() == stack::Instant::never()) return;
    deadlines_.insert({at, k});
    scheduled_[k] = at;
}

void ServiceHost::settle(std::uint64_t k, Session& s) {
    if (!s.done()) {
        reschedule(k, s);
        return;
    }
    if (auto it = scheduled_.find(k); it != scheduled_.end()) {
        deadlines_.erase({it->second, k});
        scheduled_.erase(it);
    }
    Listener* owner = session_owner_[k];
    if (owner) --owner->counters.active;
    session_owner_.erase(k);
    sessions_.erase(k);
}

stack::Instant ServiceHost::poll_at() const {
    if (!wakes_.empty()) return stack::Instant::from_micros(0);  // at once
    if (deadlines_.empty()) return stack::Instant::never();
    return stack::Instant::from_micros(deadlines_.begin()->first);
}

void ServiceHost::settle(std::uint64_t k) {
    if (auto it = sessions_.find(k); it != sessions_.end()) settle(k, *it->second);
}

void ServiceHost::drain(stack::Instant now) {
    if (draining_) return;
    handle_events(now);  // take connections whose handshake already completed: they are served
    draining_ = true;
    for (auto& l : listeners_) {
        if (l->handle.valid()) (void)tcp_.close(now, l->handle);
        by_listener_.erase(key(l->handle));
        l->handle = stack::SocketHandle{};
    }
    std::vector<std::uint64_t> keys;
    keys.reserve(sessions_.size());
    for (auto& [k, s] : sessions_) keys.push_back(k);
    for (std::uint64_t k : keys) {
        auto it = sessions_.find(k);
        if (it == sessions_.end()) continue;
        it->second->drain(now);
        settle(k);
    }
}

std::size_t ServiceHost::abort_all(stack::Instant now) {
    std::size_t n = 0;
    for (auto& [k, s] : sessions_) {
        if (s->done()) continue;
        s->abort(now);
        ++n;
    }
    std::vector<std::uint64_t> keys;
    for (auto& [k, s] : sessions_) keys.push_back(k);
    for (std::uint64_t k : keys) settle(k);
    return n;
}

bool ServiceHost::handle_events(stack::Instant now) {
    now_ = now;
    bool any = false;
    while (!deadlines_.empty() && deadlines_.begin()->first <= now.as_micros()) {
        const std::uint64_t k = deadlines_.begin()->second;
        deadlines_.erase(deadlines_.begin());
        scheduled_.erase(k);
        any = true;
        if (auto it = sessions_.find(k); it != sessions_.end()) {
            it->second->on_deadline(now);
            settle(k, *it->second);
        }
    }
    stack::SocketEvent ev;
    while (tcp_.next_event(ev)) {
        any = true;
        const std::uint64_t k = key(ev.handle);
        if (auto it = by_listener_.find(k); it != by_listener_.end()) {
            Listener& l = *it->second;
            while (true) {
                auto h = tcp_.accept(l.handle);
                if (!h) break;
                ++l.counters.accepted;
                if (is_tls(l.spec.kind) &&
                    tls_counters_.sessions_active >= tls_options_.max_sessions) {
                    // Each TLS session holds ~35 KB of mbedTLS buffers: refuse rather than grow.
                    (void)tcp_.abort(now, *h);
                    ++tls_counters_.sessions_rejected;
                    ++l.counters.errors;
                    continue;
                }
                ++l.counters.active;
                // RFC 1122 §4.2.3.6: a peer that vanished (no FIN, no RST) is found by keepalive
                // probes, also on services without timeouts of their own (echo, discard, chargen).
                (void)tcp_.set_keepalive(now, *h, true);
                const std::uint64_t sk = key(*h);
                auto session = make_session(l, *h, now);
                Session& s = *session;
                sessions_[sk] = std::move(session);
                session_owner_[sk] = &l;
                s.handle(now,
                         stack::kEventConnected | stack::kEventReadable | stack::kEventWritable);
                settle(sk, s);
            }
            continue;
        }
        if (auto it = sessions_.find(k); it != sessions_.end()) {
            Session& s = *it->second;
            s.handle(now, ev.bits);
            settle(k, s);
        }
    }
    // Sessions woken by others (WakeQueue); a woken session may wake more, in bounded rounds.
    for (int round = 0; round < 8 && !wakes_.empty(); ++round) {
        any = true;
        WakeQueue batch;
        batch.swap(wakes_);
        for (const stack::SocketHandle h : batch) {
            const std::uint64_t k = key(h);
            if (auto it = sessions_.find(k); it != sessions_.end()) {
                Session& s = *it->second;
                s.handle(now, stack::kEventReadable | stack::kEventWritable);
                settle(k, s);
            }
        }
    }
    return any;
}

void ServiceHost::append_stats(std::string& out) const {
    for (const auto& l : listeners_) {
        // Counter names keep to [A-Za-z0-9_.] (tools parse them): tls-echo counts as tls_echo.
        std::string kind(to_string(l->spec.kind));
        std::replace(kind.begin(), kind.end(), '-', '_');
        const std::string p = "stat svc." + kind + "." + std::to_string(l->spec.port) + ".";
        auto line = [&](const char* name, std::uint64_t v) {
            out += p;
            out += name;
            out += ' ';
            out += std::to_string(v);
            out += '\n';
        };
        const ServiceCounters& c = l->counters;
        line("accepted", c.accepted);
        line("active", c.active);
        line("closed", c.closed);
        line("errors", c.errors);
        line("bytes_in", c.bytes_in);
        line("bytes_out", c.bytes_out);
        if (serves_files(l->spec.kind)) {
            line("requests", c.requests);
            line("status_2xx", c.status_2xx);
            line("status_4xx", c.status_4xx);
            line("status_5xx", c.status_5xx);
            line("timeout_header", c.timeout_header);
            line("timeout_keepalive", c.timeout_keepalive);
            line("timeout_body", c.timeout_body);
            line("lingering", c.lingering);
        }
        if (l->iperf3) l->iperf3->append_stats(p, out);
    }
    if (serves_tls_) {
        tls_counters_.visit([&](std::string_view name, std::uint64_t v) {
            out += "stat ";
            out += name;
            out += ' ';
            out += std::to_string(v);
            out += '\n';
        });
    }
}

}  // namespace tunstackd
