#include "stack/tcp/tcp.hpp"

#include <algorithm>

namespace stack::tcp {

using wire::SeqNumber;
using wire::TcpFlag;

namespace {
std::array<std::uint8_t, 16> derived_key(std::uint64_t seed) {
    std::array<std::uint8_t, 16> key{};
    std::uint64_t state = seed ^ 0x7463707365637265ull;
    for (std::size_t i = 0; i < key.size(); i += 8) {
        std::uint64_t v = ip::splitmix64(state);
        for (std::size_t b = 0; b < 8; ++b) key[i + b] = static_cast<std::uint8_t>(v >> (8 * b));
    }
    return key;
}

std::array<std::uint8_t, 16> key_half(const std::optional<std::array<std::uint8_t, 32>>& secret,
                                      std::size_t half, std::uint64_t seed) {
    if (!secret) return derived_key(seed);
    std::array<std::uint8_t, 16> key{};
    std::copy_n(secret->begin() + static_cast<std::ptrdiff_t>(16 * half), key.size(), key.begin());
    return key;
}
}  // namespace

// ---- what connections see (ConnectionEnv) -----------------------------------------------------

bool TcpLayer::Env::emit(const Connection& c, Bytes header, Bytes payload1, Bytes payload2) {
    TcpStats& st = layer_.stats_;
    if (!layer_.output_.send(c.remote().addr, wire::IpProtocol::Tcp, {header, payload1, payload2},
                             /*dont_frag=*/true)) {
        return false;
    }
    ++st.tx_segments;
    st.tx_bytes += header.size() + payload1.size() + payload2.size();
    st.tx_payload_bytes += payload1.size() + payload2.size();
    return true;
}

bool TcpLayer::Env::emit_gso(const Connection& c, Bytes header, Bytes payload1, Bytes payload2,
                             std::uint32_t gso_size, bool partial_checksum) {
    TcpStats& st = layer_.stats_;
    ip::GsoRequest request;
    request.gso_size = static_cast<std::uint16_t>(gso_size);
    request.transport_hdr_len = static_cast<std::uint16_t>(header.size());
    request.csum_offset = 16;  // RFC 9293 §3.1: the checksum field
    request.csum_partial = partial_checksum;
    if (!layer_.output_.send_gso(c.remote().addr, wire::IpProtocol::Tcp,
                                 {header, payload1, payload2}, request)) {
        return false;
    }
    // Counted as the segments the device puts on the wire.
    const std::size_t payload = payload1.size() + payload2.size();
    const std::size_t segments = (payload + gso_size - 1) / gso_size;
    ++st.tx_tso_packets;
    st.tx_segments += segments;
    st.tx_bytes += segments * header.size() + payload;
    st.tx_payload_bytes += payload;
    return true;
}

std::uint32_t TcpLayer::Env::ts_offset(const Endpoint& local, const Endpoint& remote) const {
    return layer_.isn_.ts_offset(local.addr, local.port, remote.addr, remote.port);
}

TcpLayer::TcpLayer(const TcpConfig& config, ip::Ipv4Output& output, TcpStats& stats,
                   std::uint64_t seed, const std::optional<std::array<std::uint8_t, 32>>& secret)
    : config_(config),
      output_(output),
      stats_(stats),
      isn_(key_half(secret, 0, seed)),
      cookies_(key_half(secret, 1, seed ^ 0x636f6f6b6965ull)),
      rng_(seed ^ 0x706f727473ull),
      table_(tcp::socket_table_size(config)),
      wheel_(Duration::millis(1), 4096, table_.capacity()) {
    const std::size_t n = table_.capacity();
    conns_.reserve(n);
    dirty_.reserve(n);
    tw_.reserve(std::min<std::size_t>(config.max_time_wait, std::size_t{1} << 20));
}

TcpLayer::~TcpLayer() = default;

// ---- slots and handles ------------------------------------------------------------------------

void TcpLayer::free_slot(std::uint32_t index) {
    TcpSocket& s = table_[index];
    if (s.kind == TcpSocket::Kind::Connection && s.conn) {
        const auto& c = *s.conn;
        auto it = conns_.find(key(c.remote().addr, c.remote().port, c.local().port));
        if (it != conns_.end() && it->second == index) conns_.erase(it);
        wheel_.cancel(index);
        state_changed(s.state, TcpState::Closed);
        mem_in_use_ -= s.buffer_bytes;
        stats_.mem_in_use = mem_in_use_;
    }
    if (s.kind == TcpSocket::Kind::Listener) {
        listeners_.erase(s.listener.port);
        stats_.listeners = listeners_.size();
    }
    if (s.embryonic) --half_open_;
    // A stale entry in the dirty list or the event ring is skipped (kind Free, pending 0).
    table_.release(index);
}

Connection* TcpLayer::connection(SocketHandle h) {
    TcpSocket* s = table_.find(h);
    return s != nullptr && s->kind == TcpSocket::Kind::Connection ? s->conn.get() : nullptr;
}

// ---- the bookkeeping --------------------------------------------------------------------------

void TcpLayer::settle(std::uint32_t index) {
    TcpSocket& s = table_[index];
    if (s.kind != TcpSocket::Kind::Connection || !s.conn) return;
    Connection& c = *s.conn;
    ConnectionEvents ev = c.take_events();
    if (c.state() != s.state) {
        state_changed(s.state, c.state());
        s.state = c.state();
    }
    if (const std::size_t bytes = c.buffer_bytes(); bytes != s.buffer_bytes) {
        mem_in_use_ = mem_in_use_ - s.buffer_bytes + bytes;
        s.buffer_bytes = bytes;
        stats_.mem_in_use = mem_in_use_;
    }
    if (ev.established) on_established(index);
    table_.notify(index, ev.socket);  // embryonic or released: nobody to tell
    if (ev.time_wait) add_time_wait(*ev.time_wait);
    if (ev.output) mark_dirty(index);
    if (c.state() == TcpState::Closed) leave_listener(index);
    if (const Instant at = c.next_deadline(); at != s.deadline) {
        if (at == Instant::never()) {
            wheel_.cancel(index);
        } else {
            wheel_.schedule(index, at);
        }
        s.deadline = at;
    }
    if ((c.state() == TcpState::Closed || s.reap) && !table_.owned(index)) free_slot(index);
}

void TcpLayer::on_established(std::uint32_t index) {
    ++stats_.established;
    TcpSocket& s = table_[index];
    const std::uint32_t listener = s.conn->listener;
    if (listener == kNoListener) {
        table_.notify(index, kEventConnected | kEventWritable);
        return;
    }
    Listener& l = table_[listener].listener;
    if (s.embryonic) {
        s.embryonic = false;
        --l.syn_queue;
        --half_open_;
    }
    l.accept_queue.push(index);
    table_.notify(listener, kEventReadable);
}

// A connection that closed before accept() leaves its listener's queues.
void TcpLayer::leave_listener(std::uint32_t index) {
    TcpSocket& s = table_[index];
    Connection& c = *s.conn;
    if (c.listener == kNoListener) return;
    Listener& l = table_[c.listener].listener;
    l.accept_queue.remove(index);
    if (s.embryonic) {
        s.embryonic = false;
        --l.syn_queue;
        --half_open_;
    }
    c.listener = kNoListener;
}

void TcpLayer::mark_dirty(std::uint32_t index) {
    TcpSocket& s = table_[index];
    if (s.dirty) return;
    s.dirty = true;
    dirty_.push_back(index);
}

void TcpLayer::state_changed(TcpState from, TcpState to) {
    if (from == to) return;
    auto gauge = [this](TcpState s) -> std::uint64_t* {
        switch (s) {
            case TcpState::SynSent: return &stats_.state_syn_sent;
            case TcpState::SynReceived: return &stats_.state_syn_received;
            case TcpState::Established: return &stats_.state_established;
            case TcpState::FinWait1: return &stats_.state_fin_wait1;
            case TcpState::FinWait2: return &stats_.state_fin_wait2;
            case TcpState::CloseWait: return &stats_.state_close_wait;
            case TcpState::Closing: return &stats_.state_closing;
            case TcpState::LastAck: return &stats_.state_last_ack;
            case TcpState::TimeWait: return &stats_.state_time_wait;
            case TcpState::Closed:
            case TcpState::Listen: return nullptr;
        }
        return nullptr;
    };
    if (std::uint64_t* g = gauge(from)) --*g;
    if (std::uint64_t* g = gauge(to)) ++*g;
    if (from == TcpState::TimeWait) --time_wait_;
    if (to == TcpState::TimeWait) ++time_wait_;
}

// A new connection (a SYN, connect()): half-open connections count against max_connections (an
// operator's hard limit), but hold no buffers, so the budget is tested against buffers in use.
bool TcpLayer::admit(bool count_drop) {
    if (config_.max_connections != 0 && active_connection_count() >= config_.max_connections) {
        if (count_drop) ++stats_.drop_max_connections;
        return false;
    }
    return admit_buffers(count_drop);
}

// A passive connection about to be established (its handshake's ACK, a SYN cookie's ACK): room for
// its buffers, and for one more established connection.
bool TcpLayer::admit_buffers(bool count_drop) {
    if (config_.max_connections != 0 &&
        active_connection_count() - half_open_ >= config_.max_connections) {
        if (count_drop) ++stats_.drop_max_connections;
        return false;
    }
    if (config_.mem_budget != 0 &&
        mem_in_use_ + config_.send_buffer + config_.recv_buffer > config_.mem_budget) {
        if (count_drop) ++stats_.drop_mem_budget;
        return false;
    }
    return true;
}

Connection* TcpLayer::make_connection(std::uint32_t index, Endpoint local, Endpoint remote) {
    TcpSocket& s = table_[index];
    s.kind = TcpSocket::Kind::Connection;
    s.conn = std::make_unique<Connection>(env_, index, local, remote);
    conns_.emplace(key(remote.addr, remote.port, local.port), index);
    return s.conn.get();
}

std::size_t TcpLayer::abort_all(Instant now) {
    clock_ = now;
    std::size_t n = 0;
    table_.for_each([&](std::uint32_t index, TcpSocket& s) {
        if (s.kind != TcpSocket::Kind::Connection || !s.conn) return;
        const TcpState st = s.conn->state();
        if (st == TcpState::Closed || st == TcpState::TimeWait || st == TcpState::FinWait2) return;
        s.conn->abort(now);  // an unaccepted one leaves its listener's queues in settle()
        settle(index);
        ++n;
    });
    return n;
}

// RFC 5961 §7: the global challenge-ACK budget. A fixed number per second shared by all connections
// is a side channel (CVE-2016-5696): an off-path attacker spends it with spoofed segments on a victim
// connection and counts the challenge ACKs left for its own, learning whether its guess hit the window.
// So each one-second period draws its budget uniformly from [limit/2, limit*3/2) (as Linux since 4.7);
// connections are also limited one by one (Connection::invalid_ack_allowed), which is what keeps one
// connection from spending the budget and an attacker from observing it through a single connection.
bool TcpLayer::challenge_ack_allowed(Instant now) {
    if (now >= challenge_period_end_) {
        const std::uint64_t limit = std::max<std::uint32_t>(config_.challenge_ack_per_sec, 1);
        challenge_budget_ = (limit + 1) / 2 + ip::splitmix64(rng_) % limit;
        challenge_period_end_ = now + Duration::seconds(1);
    }
    if (challenge_budget_ == 0) return false;
    --challenge_budget_;
    return true;
}

// ---- input ------------------------------------------------------------------------------------

void TcpLayer::on_icmp_error(Instant now, const ip::IcmpErrorReport& error) {
    // Not acted on yet (issue 10: RFC 5927 validation and PMTUD come next).
    (void)now;
    (void)error;
}

void TcpLayer::on_segment(Instant now, const wire::Ipv4Repr& ip, Bytes payload) {
    clock_ = now;
    auto parsed = wire::TcpPacket::parse(payload, ip.src, ip.dst);
    if (!parsed) {
        switch (parsed.error()) {
            case wire::TcpError::TooLong:
            case wire::TcpError::Truncated: ++stats_.drop_truncated; break;
            case wire::TcpError::BadDataOffset: ++stats_.drop_bad_offset; break;
            case wire::TcpError::BadChecksum: ++stats_.drop_bad_checksum; break;
        }
        return;
    }
    const wire::TcpPacket& seg = *parsed;
    auto options = wire::TcpOptions::parse(seg.options());
    if (!options) {
        ++stats_.drop_bad_options;
        return;
    }
    ++stats_.rx_segments;
    stats_.rx_bytes += payload.size();
    stats_.rx_payload_bytes += seg.payload().size();
    auto it = conns_.find(key(ip.src, seg.src_port(), seg.dst_port()));
    if (it != conns_.end()) {
        const std::uint32_t index = it->second;
        TcpSocket& slot = table_[index];
        Connection& c = *slot.conn;
        // A half-open connection gets its buffers when an ACK completes the handshake: without room
        // for them the segment is dropped (and counted); the peer retransmits it.
        if (slot.embryonic && seg.flags().ack() && !seg.flags().rst() && !seg.flags().syn() &&
            !admit_buffers(/*count_drop=*/true)) {
            return;
        }
        c.on_segment(now, seg, *options);
        settle(index);
    } else {
        std::optional<SeqNumber> iss;
        if (auto t = tw_.find(key(ip.src, seg.src_port(), seg.dst_port())); t != tw_.end()) {
            iss = on_time_wait(now, t->first, seg, *options);
            if (!iss) return;  // answered (or dropped) by the TIME-WAIT record
        }
        if (auto l = listeners_.find(seg.dst_port()); l != listeners_.end()) {
            on_listen(now, l->second, ip, seg, *options, iss);
        } else {
            ++stats_.drop_no_listener;
            reset_closed(now, ip, seg);
        }
    }
}

// RFC 9293 §3.10.7.1: no TCB. An incoming RST is discarded; otherwise answer with a reset,
// <SEQ=SEG.ACK><CTL=RST> if the segment carries an ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
void TcpLayer::reset_closed(Instant now, const wire::Ipv4Repr& ip, const wire::TcpPacket& seg) {
    (void)now;
    if (seg.flags().rst()) return;
    wire::TcpRepr rst;
    rst.src_port = seg.dst_port();
    rst.dst_port = seg.src_port();
    if (seg.flags().ack()) {
        rst.seq = seg.ack();
        rst.flags = TcpFlag::Rst;
    } else {
        rst.seq = SeqNumber(0);
        rst.ack = seg.seq() + seg.segment_len();
        rst.flags = TcpFlag::Rst | TcpFlag::Ack;
    }
    std::uint8_t buf[wire::kTcpMinHeaderLen];
    rst.emit(MutBytes(buf), ip.dst, ip.src, Bytes());
    if (output_.send(ip.src, wire::IpProtocol::Tcp, {Bytes(buf)}, /*dont_frag=*/true)) {
        ++stats_.tx_resets;
        ++stats_.tx_segments;
        stats_.tx_bytes += sizeof buf;
    }
}

// RFC 9293 §3.10.7.2, LISTEN. A full accept queue drops SYNs (the peer retries; Linux does the same),
// so do the admission limits (TcpConfig::max_connections, mem_budget); a full SYN queue, or no free
// socket slot, answers with a SYN cookie (RFC 4987 §3.6). An ACK is tested as a cookie's only while
// this listener has recently sent cookies (SynCookies::kRecentUs), else answered with RST at once.
// `iss`: the ISS for a new incarnation of a TIME-WAIT 4-tuple.
void TcpLayer::on_listen(Instant now, std::uint32_t listener, const wire::Ipv4Repr& ip,
                         const wire::TcpPacket& seg, const wire::TcpOptions& options,
                         std::optional<SeqNumber> iss) {
    if (seg.flags().rst()) return;
    Listener& l = table_[listener].listener;
    if (seg.flags().ack()) {
        if (!seg.flags().syn() && !l.cookies_recent(now, SynCookies::kRecentUs)) {
            ++stats_.syncookies_unchecked;
            reset_closed(now, ip, seg);
            return;
        }
        if (seg.flags().syn() || !accept_cookie(now, listener, ip, seg, options)) {
            reset_closed(now, ip, seg);
        }
        return;
    }
    if (!seg.flags().syn()) return;
    if (l.accept_queue_full()) {
        ++stats_.drop_listen_overflow;  // dropped, not reset: the peer will retry
        return;
    }
    if (!admit(/*count_drop=*/true)) return;  // dropped: the peer retries (RFC 9293 §3.10.7.2)
    if (l.syn_queue_full() || table_.full()) {
        l.cookie_sent(now);
        send_cookie_synack(now, ip, seg, options);
        return;
    }
    Connection* c = new_passive(listener, ip, seg);
    if (c == nullptr) return;
    table_[c->index()].embryonic = true;
    ++half_open_;
    ++l.syn_queue;
    c->open_passive(
        now, iss.value_or(isn_.generate(now, ip.dst, seg.dst_port(), ip.src, seg.src_port())), seg,
        options);
    settle(c->index());
}

Connection* TcpLayer::new_passive(std::uint32_t listener, const wire::Ipv4Repr& ip,
                                  const wire::TcpPacket& seg) {
    auto index = table_.allocate();
    if (!index) {
        ++stats_.drop_no_memory;
        return nullptr;
    }
    Connection* c =
        make_connection(*index, Endpoint{ip.dst, seg.dst_port()}, Endpoint{ip.src, seg.src_port()});
    c->listener = listener;
    ++stats_.passive_opens;
    return c;
}

void TcpLayer::send_cookie_synack(Instant now, const wire::Ipv4Repr& ip, const wire::TcpPacket& seg,
                                  const wire::TcpOptions& options) {
    const CookieTuple t{ip.dst, seg.dst_port(), ip.src, seg.src_port()};
    wire::TcpRepr r;
    r.src_port = seg.dst_port();
    r.dst_port = seg.src_port();
    r.seq = cookies_.make(now, t, seg.seq(), options.mss.value_or(536));
    r.ack = seg.seq() + 1;
    r.flags = wire::TcpFlag::Syn | wire::TcpFlag::Ack;
    r.window = static_cast<std::uint16_t>(std::min<std::size_t>(config_.recv_buffer, 65535));
    r.options.mss = static_cast<std::uint16_t>(output_.mtu() - 40);
    // The other options survive only in the timestamp bits (syn_cookie.hpp), so only with them.
    if (config_.timestamps && options.timestamps) {
        CookieTsOptions o;
        if (config_.window_scaling && options.window_scale) {
            o.wscale = std::min(*options.window_scale, wire::kTcpMaxWindowScale);
            r.options.window_scale = receive_window_scale(config_);
        }
        if (config_.sack && options.sack_permitted) {
            o.sack = true;
            r.options.sack_permitted = true;
        }
        const std::uint32_t ts_now = static_cast<std::uint32_t>(now.as_millis()) +
                                     isn_.ts_offset(ip.dst, seg.dst_port(), ip.src, seg.src_port());
        r.options.timestamps =
            wire::TcpTimestamps{SynCookies::encode_ts(ts_now, o), options.timestamps->tsval};
    }
    std::uint8_t buf[wire::kTcpMaxHeaderLen];
    r.emit(MutBytes(buf, r.header_len()), ip.dst, ip.src, Bytes());
    if (output_.send(ip.src, wire::IpProtocol::Tcp, {Bytes(buf, r.header_len())},
                     /*dont_frag=*/true)) {
        ++stats_.syncookies_sent;
        ++stats_.tx_segments;
        stats_.tx_bytes += r.header_len();
    }
}

// An ACK to a listener: the third segment of a cookie handshake, or garbage (answered with RST).
bool TcpLayer::accept_cookie(Instant now, std::uint32_t listener, const wire::Ipv4Repr& ip,
                             const wire::TcpPacket& seg, const wire::TcpOptions& options) {
    const CookieTuple t{ip.dst, seg.dst_port(), ip.src, seg.src_port()};
    auto mss = cookies_.check(now, t, seg.ack() - 1, seg.seq() - 1);
    if (!mss) {
        ++stats_.syncookies_failed;
        return false;
    }
    wire::TcpOptions offered;
    offered.mss = *mss;
    if (config_.timestamps && options.timestamps) {
        // Our cookie SYN-ACK had timestamps (the ACK would have none otherwise): TSecr holds the
        // other options and dates the cookie.
        const std::uint32_t ts_now = static_cast<std::uint32_t>(now.as_millis()) +
                                     isn_.ts_offset(ip.dst, seg.dst_port(), ip.src, seg.src_port());
        auto o = SynCookies::decode_ts(ts_now, options.timestamps->tsecr);
        if (!o) {
            ++stats_.syncookies_failed;
            return false;
        }
        offered.window_scale = o->wscale;
        offered.sack_permitted = o->sack;
        offered.timestamps = wire::TcpTimestamps{options.timestamps->tsval, 0};
    }
    if (table_[listener].listener.accept_queue_full()) {
        ++stats_.drop_listen_overflow;
        return true;  // valid, but no room: drop silently, the peer retransmits
    }
    if (!admit_buffers(/*count_drop=*/true)) return true;  // likewise
    Connection* c = new_passive(listener, ip, seg);
    if (c == nullptr) return true;
    ++stats_.syncookies_ok;
    c->open_from_cookie(now, seg.ack() - 1, seg, offered);
    c->on_segment(now, seg, options);  // the ACK may carry data or a FIN
    settle(c->index());
    return true;
}

// ---- timers and output ------------------------------------------------------------------------

void TcpLayer::poll(Instant now) {
    clock_ = now;
    wheel_.advance(now, [&](std::uint32_t index) {
        TcpSocket& s = table_[index];
        s.deadline = Instant::never();  // the wheel dropped the entry before calling
        if (s.kind != TcpSocket::Kind::Connection || !s.conn) return;
        s.conn->on_timer(now);
        settle(index);
    });
    flush_dirty(now);
    expire_time_wait(now);
}

void TcpLayer::flush_dirty(Instant now) {
    std::size_t n = dirty_.size();
    for (std::size_t k = 0; k < n; ++k) {
        std::uint32_t index = dirty_[k];
        TcpSocket& s = table_[index];
        s.dirty = false;
        if (s.kind != TcpSocket::Kind::Connection || !s.conn) continue;
        if (!s.conn->output(now)) {
            s.dirty = true;  // the TX queue filled up: try again on the next poll
            dirty_.push_back(index);
        }
        settle(index);
    }
    dirty_.erase(dirty_.begin(), dirty_.begin() + static_cast<std::ptrdiff_t>(n));
}

Instant TcpLayer::poll_at() const { return std::min(wheel_.next_deadline(), time_wait_deadline()); }

// ---- the socket API ---------------------------------------------------------------------------

Result<SocketHandle, SocketError> TcpLayer::listen(std::uint16_t port, std::uint32_t backlog) {
    if (port == 0 || backlog == 0) return Err(SocketError::InvalidArgument);
    if (listeners_.count(port) != 0) return Err(SocketError::AddressInUse);
    auto index = table_.allocate();
    if (!index) return Err(SocketError::TooManySockets);
    TcpSocket& s = table_[*index];
    s.kind = TcpSocket::Kind::Listener;
    table_.set_owned(*index, true);
    s.listener.port = port;
    s.listener.backlog = backlog;
    listeners_.emplace(port, *index);
    stats_.listeners = listeners_.size();
    return table_.handle(*index);
}

Result<SocketHandle, SocketError> TcpLayer::accept(SocketHandle listener) {
    TcpSocket* l = table_.find(listener);
    if (l == nullptr) return Err(SocketError::InvalidHandle);
    if (l->kind != TcpSocket::Kind::Listener) return Err(SocketError::WrongKind);
    if (l->listener.accept_queue.empty()) return Err(SocketError::WouldBlock);
    const std::uint32_t index = l->listener.accept_queue.front();
    l->listener.accept_queue.pop();
    TcpSocket& s = table_[index];
    table_.set_owned(index, true);
    s.conn->listener = kNoListener;
    // Whatever already happened on it (data, FIN) is reported now.
    std::uint8_t bits = kEventConnected | kEventWritable;
    if (s.conn->readable() || s.conn->eof()) bits |= kEventReadable;
    // The peer's FIN counts even while data is still buffered (kEventPeerClosed's contract).
    if (s.conn->fin_received()) bits |= kEventPeerClosed;
    table_.notify(index, bits);
    return table_.handle(index);
}

Result<SocketHandle, SocketError> TcpLayer::connect(Instant now, wire::Ipv4Address addr,
                                                    std::uint16_t port) {
    clock_ = now;
    if (port == 0 || addr.is_unspecified() || addr.is_broadcast() || addr.is_multicast()) {
        return Err(SocketError::InvalidArgument);
    }
    const std::uint32_t range = config_.ephemeral_last - config_.ephemeral_first + 1u;
    std::uint16_t local_port = 0;
    std::uint32_t start = static_cast<std::uint32_t>(ip::splitmix64(rng_) % range);
    for (std::uint32_t i = 0; i < range; ++i) {
        std::uint16_t p = static_cast<std::uint16_t>(config_.ephemeral_first + (start + i) % range);
        const std::uint64_t k = key(addr, port, p);
        if (conns_.count(k) == 0 && tw_.count(k) == 0 && listeners_.count(p) == 0) {
            local_port = p;
            break;
        }
    }
    if (local_port == 0) return Err(SocketError::NoPortsAvailable);
    if (!admit(/*count_drop=*/false)) return Err(SocketError::TooManySockets);
    auto index = table_.allocate();
    if (!index) return Err(SocketError::TooManySockets);
    table_.set_owned(*index, true);
    Connection* c =
        make_connection(*index, Endpoint{output_.addr(), local_port}, Endpoint{addr, port});
    ++stats_.active_opens;
    c->open_active(now, isn_.generate(now, output_.addr(), local_port, addr, port));
    settle(*index);
    return table_.handle(*index);
}

Result<std::size_t, SocketError> TcpLayer::send(SocketHandle h, Bytes data) {
    TcpSocket* s = table_.find(h);
    if (s == nullptr) return Err(SocketError::InvalidHandle);
    if (s->kind != TcpSocket::Kind::Connection) return Err(SocketError::WrongKind);
    Connection& c = *s->conn;
    if (auto e = c.error()) return Err(*e);
    if (c.send_shut()) return Err(SocketError::Closed);
    switch (c.state()) {
        case TcpState::SynSent:
        case TcpState::SynReceived:
        case TcpState::Established:
        case TcpState::CloseWait: break;
        default: return Err(SocketError::Closed);
    }
    const std::size_t n = c.send(data);
    settle(h.index);
    return n;
}

Result<std::size_t, SocketError> TcpLayer::recv(SocketHandle h, MutBytes out) {
    TcpSocket* s = table_.find(h);
    if (s == nullptr) return Err(SocketError::InvalidHandle);
    if (s->kind != TcpSocket::Kind::Connection) return Err(SocketError::WrongKind);
    Connection& c = *s->conn;
    std::size_t n = c.recv(out);
    settle(h.index);
    if (n == 0 && c.error() && !c.readable()) return Err(*c.error());
    return n;
}

Result<bool, SocketError> TcpLayer::eof(SocketHandle h) const {
    const TcpSocket* s = table_.find(h);
    if (s == nullptr) return Err(SocketError::InvalidHandle);
    if (s->kind != TcpSocket::Kind::Connection) return Err(SocketError::WrongKind);
    return s->conn->eof();
}

Result<void, SocketError> TcpLayer::shutdown(SocketHandle h) {
    Connection* c = connection(h);
    if (c == nullptr) {
        return Err(table_.find(h) ? SocketError::WrongKind : SocketError::InvalidHandle);
    }
    c->shutdown_send();
    settle(h.index);
    return Ok{};
}

Result<void, SocketError> TcpLayer::close(Instant now, SocketHandle h) {
    TcpSocket* s = table_.find(h);
    if (s == nullptr) return Err(SocketError::InvalidHandle);
    if (s->kind == TcpSocket::Kind::Listener) {
        // Connections nobody accepted are reset (as Linux does on close of a listening socket).
        AcceptQueue& queue = s->listener.accept_queue;
        while (!queue.empty()) {
            const std::uint32_t i = queue.front();
            queue.pop();
            table_[i].conn->listener = kNoListener;
            table_[i].conn->abort(now);
            settle(i);
        }
        table_.for_each([&](std::uint32_t i, TcpSocket& other) {
            if (other.kind == TcpSocket::Kind::Connection && other.conn &&
                other.conn->listener == h.index) {
                leave_listener(i);
                other.conn->abort(now);
                settle(i);
            }
        });
        free_slot(h.index);
        return Ok{};
    }
    Connection& c = *s->conn;
    table_.set_owned(h.index, false);
    c.orphaned_ = true;
    if (c.state() == TcpState::TimeWait) {
        add_time_wait(c.time_wait_state(now));  // the compact record replaces the connection
        s->reap = true;
    } else if (c.state() != TcpState::Closed) {
        if (c.recv_available() > 0) {
            c.abort(now);  // unread data: RFC 2525 §2.17, reset rather than pretend it was read
        } else {
            c.shutdown_send();
        }
    }
    settle(h.index);
    return Ok{};
}

Result<void, SocketError> TcpLayer::abort(Instant now, SocketHandle h) {
    TcpSocket* s = table_.find(h);
    if (s == nullptr) return Err(SocketError::InvalidHandle);
    if (s->kind == TcpSocket::Kind::Listener) return close(now, h);
    table_.set_owned(h.index, false);
    if (s->conn->state() != TcpState::Closed) s->conn->abort(now);
    settle(h.index);
    return Ok{};
}

Result<void, SocketError> TcpLayer::set_nodelay(SocketHandle h, bool on) {
    Connection* c = connection(h);
    if (c == nullptr) return Err(SocketError::InvalidHandle);
    c->set_nodelay(on);
    mark_dirty(h.index);  // what Nagle held back may go now
    settle(h.index);
    return Ok{};
}

Result<void, SocketError> TcpLayer::set_keepalive(Instant now, SocketHandle h, bool on) {
    Connection* c = connection(h);
    if (c == nullptr) return Err(SocketError::InvalidHandle);
    c->set_keepalive(now, on);
    settle(h.index);
    return Ok{};
}

Result<ConnectionInfo, SocketError> TcpLayer::info(SocketHandle h) const {
    const TcpSocket* s = table_.find(h);
    if (s == nullptr) return Err(SocketError::InvalidHandle);
    if (s->kind != TcpSocket::Kind::Connection) return Err(SocketError::WrongKind);
    return s->conn->info();
}

std::optional<SocketError> TcpLayer::error(SocketHandle h) const {
    const TcpSocket* s = table_.find(h);
    if (s == nullptr || s->kind != TcpSocket::Kind::Connection) return std::nullopt;
    return s->conn->error();
}

bool TcpLayer::next_event(SocketEvent& out) { return table_.next_event(out); }

void TcpLayer::for_each_connection(function_ref<void(const ConnectionInfo&)> fn) const {
    table_.for_each([&](std::uint32_t, const TcpSocket& s) {
        if (s.kind == TcpSocket::Kind::Connection && s.conn) fn(s.conn->info());
    });
    for (const auto& [k, e] : tw_) {
        ConnectionInfo i;
        i.local = e.tw.local;
        i.remote = e.tw.remote;
        i.state = TcpState::TimeWait;
        i.rcv_wnd = std::uint32_t{e.tw.window} << e.tw.rcv_wscale;
        i.timestamps = e.tw.ts_ok;
        i.window_scaling = e.tw.rcv_wscale != 0;
        i.rcv_wscale = e.tw.rcv_wscale;
        fn(i);
    }
}

// ---- TIME-WAIT records ------------------------------------------------------------------------

void TcpLayer::add_time_wait(const TimeWaitState& tw) {
    if (config_.max_time_wait == 0) {
        ++stats_.time_wait_evicted;  // no TIME-WAIT kept at all
        return;
    }
    // At the cap the oldest record goes (the one closest to its end anyway): TIME-WAIT never
    // refuses a connection, and its memory stays bounded.
    while (tw_.size() >= config_.max_time_wait && !tw_order_.empty()) {
        const TimeWaitOrder o = tw_order_.front();
        tw_order_.pop_front();
        auto it = tw_.find(o.key);
        if (it == tw_.end() || it->second.id != o.id) continue;  // stale
        remove_time_wait(o.key);
        ++stats_.time_wait_evicted;
    }
    const std::uint64_t k = key(tw.remote.addr, tw.remote.port, tw.local.port);
    auto [it, inserted] = tw_.try_emplace(k);
    if (inserted) ++stats_.state_time_wait;
    it->second.tw = tw;
    order_time_wait(k, it->second);
}

void TcpLayer::order_time_wait(std::uint64_t k, TimeWaitEntry& e) {
    e.id = tw_next_id_++;
    tw_order_.push_back({k, e.id, e.tw.deadline});
    // Restarts and early removals leave stale entries behind: drop them once they outnumber the
    // records (amortized O(1); the order of the others is kept).
    if (tw_order_.size() > 2 * tw_.size() + 1024) {
        std::erase_if(tw_order_, [this](const TimeWaitOrder& o) {
            auto it = tw_.find(o.key);
            return it == tw_.end() || it->second.id != o.id;
        });
    }
}

void TcpLayer::remove_time_wait(std::uint64_t k) {
    if (tw_.erase(k) != 0) --stats_.state_time_wait;
}

void TcpLayer::expire_time_wait(Instant now) {
    while (!tw_order_.empty() && tw_order_.front().deadline <= now) {
        const TimeWaitOrder o = tw_order_.front();
        tw_order_.pop_front();
        auto it = tw_.find(o.key);
        if (it != tw_.end() && it->second.id == o.id) remove_time_wait(o.key);
    }
}

Instant TcpLayer::time_wait_deadline() const {
    return tw_order_.empty() ? Instant::never() : tw_order_.front().deadline;
}

void TcpLayer::send_time_wait_ack(Instant now, const TimeWaitState& tw) {
    wire::TcpRepr r;
    r.src_port = tw.local.port;
    r.dst_port = tw.remote.port;
    r.seq = tw.snd_nxt;
    r.ack = tw.rcv_nxt;
    r.flags = TcpFlag::Ack;
    r.window = tw.window;
    if (tw.ts_ok) {
        r.options.timestamps = wire::TcpTimestamps{
            static_cast<std::uint32_t>(now.as_millis()) + tw.ts_offset, tw.ts_recent};
    }
    std::uint8_t buf[wire::kTcpMaxHeaderLen];
    r.emit(MutBytes(buf, r.header_len()), tw.local.addr, tw.remote.addr, Bytes());
    if (output_.send(tw.remote.addr, wire::IpProtocol::Tcp, {Bytes(buf, r.header_len())},
                     /*dont_frag=*/true)) {
        ++stats_.tx_segments;
        stats_.tx_bytes += r.header_len();
    }
}

// RFC 9293 §3.10.7.4 in TIME-WAIT, for a record: "the only thing that can arrive in this state is a
// retransmission of the remote FIN": acknowledge it and restart the 2*MSL timeout. Also: a RST at
// RCV.NXT ends TIME-WAIT, one elsewhere in the window gets a challenge ACK (RFC 5961 §3.2); a SYN may
// open a new incarnation (RFC 6191 with timestamps, else a sequence number above RCV.NXT: RFC 9293
// §3.10.7.4, RFC 1122 §4.2.2.13), other SYNs get a challenge ACK (RFC 5961 §4.2); PAWS (RFC 7323
// §5.3) and unacceptable segments are answered with an ACK.
std::optional<SeqNumber> TcpLayer::on_time_wait(Instant now, std::uint64_t k,
                                                const wire::TcpPacket& seg,
                                                const wire::TcpOptions& options) {
    TimeWaitEntry& e = tw_.find(k)->second;
    TimeWaitState& tw = e.tw;
    const auto flags = seg.flags();
    const std::uint32_t wnd = std::max<std::uint32_t>(std::uint32_t{tw.window} << tw.rcv_wscale, 1);
    if (flags.rst()) {
        if (seg.seq() == tw.rcv_nxt) {
            ++stats_.rx_resets;
            remove_time_wait(k);
        } else if (wire::seq_in_window(seg.seq(), tw.rcv_nxt, wnd) && challenge_ack_allowed(now)) {
            ++stats_.challenge_acks;
            send_time_wait_ack(now, tw);
        }
        return std::nullopt;
    }
    const bool ts = tw.ts_ok && options.timestamps.has_value();
    if (flags.syn() && !flags.ack()) {
        bool reuse = false;
        if (ts && config_.timestamps) {
            // RFC 6191 §2: a newer timestamp, or an equal one with a higher sequence number.
            const auto d = static_cast<std::int32_t>(options.timestamps->tsval - tw.ts_recent);
            reuse = d > 0 || (d == 0 && seg.seq() > tw.rcv_nxt);
        } else {
            reuse = seg.seq() > tw.rcv_nxt;
        }
        if (reuse) {
            // The new ISS lies beyond anything the old incarnation sent (as Linux: + 64K + 2).
            const SeqNumber iss = tw.snd_nxt + 65537u;
            remove_time_wait(k);
            ++stats_.time_wait_reused;
            return iss;
        }
    }
    if (ts && static_cast<std::int32_t>(options.timestamps->tsval - tw.ts_recent) < 0) {
        ++stats_.drop_paws;
        send_time_wait_ack(now, tw);
        return std::nullopt;
    }
    if (flags.syn()) {
        if (challenge_ack_allowed(now)) {
            ++stats_.challenge_acks;
            send_time_wait_ack(now, tw);
        }
        return std::nullopt;
    }
    if (flags.fin()) {
        tw.deadline = now + config_.msl * 2;
        order_time_wait(k, e);
        send_time_wait_ack(now, tw);
        return std::nullopt;
    }
    if (seg.seq() != tw.rcv_nxt || !seg.payload().empty()) {
        ++stats_.drop_out_of_window;
        send_time_wait_ack(now, tw);
    }
    return std::nullopt;
}

}  // namespace stack::tcp
