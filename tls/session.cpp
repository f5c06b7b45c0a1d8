#include "tls/session.hpp"

#include <mbedtls/net_sockets.h>

#include <algorithm>
#include <climits>

#include "stack/base/bytes.hpp"
#include "tls/mbedtls_compat.hpp"

namespace tls {

namespace {
constexpr int kMaxHandshakeSteps = 64;  // a TLS 1.2 handshake has ~20 states; a guard, not a limit
}

std::string_view to_string(TlsSession::Phase p) {
    switch (p) {
        case TlsSession::Phase::Handshake: return "handshake";
        case TlsSession::Phase::Open: return "open";
        case TlsSession::Phase::Closing: return "closing";
        case TlsSession::Phase::Closed: return "closed";
        case TlsSession::Phase::Failed: return "failed";
    }
    return "?";
}

SavedSession::SavedSession() { mbedtls_ssl_session_init(&session_); }
SavedSession::~SavedSession() { mbedtls_ssl_session_free(&session_); }

TlsSession::TlsSession(ByteStream& stream, TlsStats* stats) : stream_(stream), stats_(stats) {
    mbedtls_ssl_init(&ssl_);
    if (stats_ != nullptr) ++stats_->sessions_active;
}

TlsSession::~TlsSession() {
    mbedtls_ssl_free(&ssl_);
    if (stats_ != nullptr) --stats_->sessions_active;
}

stack::Result<std::unique_ptr<TlsSession>, Error> TlsSession::server(
    std::shared_ptr<const ServerConfig> config, ByteStream& stream, TlsStats* stats) {
    std::unique_ptr<TlsSession> s(new TlsSession(stream, stats));
    const mbedtls_ssl_config* conf = config->get();
    s->config_ = std::move(config);
    if (const int ret = mbedtls_ssl_setup(&s->ssl_, conf); ret != 0) {
        return stack::Err(Error{classify(ret), ret, 0, -1, "setting up the session"});
    }
    s->ssl_ready_ = true;
    mbedtls_ssl_set_bio(&s->ssl_, s.get(), &TlsSession::bio_send, &TlsSession::bio_recv, nullptr);
    return s;
}

stack::Result<std::unique_ptr<TlsSession>, Error> TlsSession::client(
    std::shared_ptr<const ClientConfig> config, ByteStream& stream, const ClientTarget& target,
    TlsStats* stats, const SavedSession* resume) {
    std::unique_ptr<TlsSession> s(new TlsSession(stream, stats));
    const mbedtls_ssl_config* conf = config->get();
    const bool verify = config->verify();
    s->config_ = std::move(config);
    int ret = mbedtls_ssl_setup(&s->ssl_, conf);
    if (ret != 0) return stack::Err(Error{classify(ret), ret, 0, -1, "setting up the session"});
    s->ssl_ready_ = true;
    if (!target.server_name.empty()) {
        ret = mbedtls_ssl_set_hostname(&s->ssl_, target.server_name.c_str());
        if (ret != 0) return stack::Err(Error{Reason::Internal, ret, 0, -1, "server name"});
    }
    if (target.ipv4 && verify) {
        s->expected_ipv4_ = target.ipv4;
        mbedtls_ssl_set_verify(&s->ssl_, &TlsSession::verify_ip, s.get());
    }
    if (resume != nullptr && resume->valid()) {
        ret = mbedtls_ssl_set_session(&s->ssl_, &resume->session_);
        if (ret != 0) return stack::Err(Error{Reason::Internal, ret, 0, -1, "resuming"});
    }
    mbedtls_ssl_set_bio(&s->ssl_, s.get(), &TlsSession::bio_send, &TlsSession::bio_recv, nullptr);
    return s;
}

// ---- BIO
// -------------------------------------------------------------------------------------------

int TlsSession::bio_send(void* self, const unsigned char* buf, std::size_t len) {
    auto* s = static_cast<TlsSession*>(self);
    len = std::min<std::size_t>(len, INT_MAX);
    auto r = s->stream_.send(stack::Bytes(buf, len));
    if (r) return static_cast<int>(*r);
    if (r.error() == StreamError::WouldBlock) return MBEDTLS_ERR_SSL_WANT_WRITE;
    s->stream_error_ = r.error();
    return r.error() == StreamError::Reset ? MBEDTLS_ERR_NET_CONN_RESET
                                           : MBEDTLS_ERR_NET_SEND_FAILED;
}

int TlsSession::bio_recv(void* self, unsigned char* buf, std::size_t len) {
    auto* s = static_cast<TlsSession*>(self);
    len = std::min<std::size_t>(len, INT_MAX);
    auto r = s->stream_.recv(stack::MutBytes(buf, len));
    s->recv_would_block_ = !r && r.error() == StreamError::WouldBlock;
    if (r) return static_cast<int>(*r);
    switch (r.error()) {
        case StreamError::WouldBlock: return MBEDTLS_ERR_SSL_WANT_READ;
        case StreamError::Eof: s->stream_error_ = StreamError::Eof; return 0;
        case StreamError::Reset: s->stream_error_ = r.error(); return MBEDTLS_ERR_NET_CONN_RESET;
        default: s->stream_error_ = r.error(); return MBEDTLS_ERR_NET_RECV_FAILED;
    }
}

int TlsSession::verify_ip(void* self, mbedtls_x509_crt* crt, int depth, std::uint32_t* flags) {
    auto* s = static_cast<TlsSession*>(self);
    if (depth != 0 || !s->expected_ipv4_) return 0;
    bool match = false;
    compat::for_each_san(crt, [&](int tag, const unsigned char* p, std::size_t len) {
        if (tag == 7 && len == 4 && stack::load_be32(p) == *s->expected_ipv4_) match = true;
    });
    if (!match) *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    return 0;
}

// ---- state machine
// ---------------------------------------------------------------------------------

void TlsSession::record_failure(Error e) {
    if (error_) return;
    if (stats_ != nullptr) {
        auto& by_reason = handshake_done_ ? stats_->failed : stats_->handshake_failed;
        ++by_reason[static_cast<std::size_t>(e.reason)];
    }
    error_ = std::move(e);
    phase_ = Phase::Failed;
}

void TlsSession::fail(Reason reason, std::string detail) {
    record_failure(Error{reason, 0, 0, -1, std::move(detail)});
}

void TlsSession::fail_code(int code) {
    if (error_) return;
    Error e;
    e.code = code;
    e.reason = classify(code);
    if (stream_error_) {
        switch (*stream_error_) {
            case StreamError::Eof: e.reason = Reason::PeerClosed; break;
            case StreamError::WouldBlock: break;
            default:
                e.reason = Reason::PeerReset;
                e.detail = std::string(to_string(*stream_error_));
                break;
        }
    }
    if (code == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) e.alert = compat::received_alert(&ssl_);
    // mbedTLS reports an ALPN mismatch as a bad ClientHello; the alert it sent says what it was.
    if (compat::last_alert_sent(&ssl_) == MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL) {
        e.reason = Reason::NoApplicationProtocol;
    }
    if (e.reason == Reason::BadCertificate) e.verify_flags = mbedtls_ssl_get_verify_result(&ssl_);
    // mbedTLS sends a fatal alert itself for most failures (no shared suite in the ClientHello,
    // version, MAC, certificate), not for all: records or messages it cannot parse, or a suite it
    // chose before finding no ECDHE group in common (it checks that only when it writes the
    // ServerKeyExchange). Send one then (RFC 5246 §7.2.2) unless the peer is gone or sent its own.
    if (!compat::last_output_was_alert(&ssl_)) {
        int desc = -1;
        switch (e.reason) {
            case Reason::BadRecord: desc = MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE; break;
            case Reason::BadHandshake: desc = MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR; break;
            case Reason::NoSharedCipher: desc = MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE; break;
            case Reason::BadVersion: desc = MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION; break;
            case Reason::Internal: desc = MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR; break;
            default: break;
        }
        if (desc >= 0) {
            compat::default_record_version(&ssl_);
            (void)mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                                 static_cast<unsigned char>(desc));
        }
    }
    record_failure(std::move(e));
}

bool TlsSession::flush() {
    for (int guard = 0; guard < 1024 && compat::output_pending(&ssl_); ++guard) {
        const int ret = compat::flush_output(&ssl_);
        if (ret == 0) continue;
        if (ret != MBEDTLS_ERR_SSL_WANT_WRITE) fail_code(ret);
        return false;
    }
    return !error_;
}

void TlsSession::step_handshake() {
    for (int i = 0; i < kMaxHandshakeSteps && !compat::handshake_over(&ssl_); ++i) {
        const int ret = mbedtls_ssl_handshake_step(&ssl_);
        if (const auto r = compat::handshake_resuming(&ssl_)) resumed_ = *r;
        if (ret == 0) continue;
        if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) fail_code(ret);
        return;
    }
    if (!compat::handshake_over(&ssl_)) return;
    handshake_done_ = true;
    phase_ = Phase::Open;
    if (stats_ != nullptr) {
        ++stats_->handshakes_ok;
        if (resumed_) ++stats_->handshakes_resumed;
    }
    if (close_requested_) {
        phase_ = Phase::Closing;
        step_close();
    }
}

void TlsSession::step_close() {
    if (!flush()) return;
    if (handshake_done_ && !close_notify_written_) {
        close_notify_written_ = true;
        const int ret = mbedtls_ssl_close_notify(&ssl_);
        if (ret != 0 && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
            fail_code(ret);
            return;
        }
        // The alert record exists now; a WANT_WRITE only delays it to the next flush.
        if (stats_ != nullptr) ++stats_->close_notify_sent;
        if (!flush()) return;
    }
    stream_.shutdown_send();
    phase_ = Phase::Closed;
}

TlsSession::Phase TlsSession::advance() {
    switch (phase_) {
        case Phase::Handshake: step_handshake(); break;
        case Phase::Open: (void)flush(); break;
        case Phase::Closing: step_close(); break;
        case Phase::Failed:
            // Best effort: push out a pending fatal alert.
            for (int guard = 0; guard < 16 && ssl_ready_ && compat::output_pending(&ssl_);
                 ++guard) {
                if (compat::flush_output(&ssl_) != 0) break;
            }
            break;
        case Phase::Closed: break;
    }
    return phase_;
}

void TlsSession::close() {
    if (phase_ == Phase::Failed || phase_ == Phase::Closed || close_requested_) return;
    close_requested_ = true;
    phase_ = Phase::Closing;
    step_close();
}

stack::Result<std::size_t, Error> TlsSession::read(stack::MutBytes out) {
    if (phase_ == Phase::Handshake) step_handshake();
    if (phase_ == Phase::Failed) return stack::Err(*error_);
    // Reading goes on after our own close_notify (Closing, Closed) until the peer's arrives.
    if (!handshake_done_ || peer_closed_ || out.empty()) return std::size_t{0};
    if (!flush() && error_) return stack::Err(*error_);
    int ret = MBEDTLS_ERR_SSL_WANT_READ;
    // mbedTLS can answer WANT_READ after consuming a record that carried no application data (a
    // refused renegotiation, a warning alert) while more records wait in the stream; those would
    // never raise another readable event, so read on until the stream itself is empty.
    for (int i = 0; i < 16; ++i) {
        recv_would_block_ = false;
        ret = mbedtls_ssl_read(&ssl_, out.data(), std::min<std::size_t>(out.size(), INT_MAX));
        if (ret != MBEDTLS_ERR_SSL_WANT_READ || recv_would_block_) break;
    }
    if (ret > 0) return static_cast<std::size_t>(ret);
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        peer_closed_ = true;
        if (stats_ != nullptr) ++stats_->close_notify_received;
        return std::size_t{0};
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        return std::size_t{0};
    }
    // 0: the stream ended without close_notify, i.e. truncation.
    fail_code(ret == 0 ? MBEDTLS_ERR_SSL_CONN_EOF : ret);
    return stack::Err(*error_);
}

stack::Result<std::size_t, Error> TlsSession::write(stack::Bytes data) {
    if (phase_ == Phase::Handshake) step_handshake();
    if (phase_ == Phase::Failed) return stack::Err(*error_);
    if (phase_ == Phase::Handshake) return std::size_t{0};
    if (phase_ != Phase::Open) {
        return stack::Err(Error{Reason::Internal, 0, 0, -1, "write after close"});
    }
    if (!flush()) {
        if (error_) return stack::Err(*error_);
        return std::size_t{0};
    }
    std::size_t taken = 0;
    while (taken < data.size()) {
        const int max = mbedtls_ssl_get_max_out_record_payload(&ssl_);
        if (max <= 0) {
            fail_code(max < 0 ? max : MBEDTLS_ERR_SSL_INTERNAL_ERROR);
            break;
        }
        const std::size_t chunk = std::min(data.size() - taken, static_cast<std::size_t>(max));
        const int ret = mbedtls_ssl_write(&ssl_, data.data() + taken, chunk);
        if (ret > 0) {
            taken += static_cast<std::size_t>(ret);
            continue;
        }
        if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
            // The record with these `chunk` bytes is built and partly sent; flush() finishes it.
            taken += chunk;
            break;
        }
        if (ret == MBEDTLS_ERR_SSL_WANT_READ) break;
        fail_code(ret);
        break;
    }
    if (taken == 0 && error_) return stack::Err(*error_);
    return taken;
}

// ---- queries
// ---------------------------------------------------------------------------------------

bool TlsSession::has_buffered_input() const {
    if (!handshake_done_ || peer_closed_ || phase_ == Phase::Failed) return false;
    return mbedtls_ssl_get_bytes_avail(&ssl_) > 0 || mbedtls_ssl_check_pending(&ssl_) != 0;
}

bool TlsSession::has_pending_output() const { return ssl_ready_ && compat::output_pending(&ssl_); }

std::string_view TlsSession::alpn() const {
    const char* p = mbedtls_ssl_get_alpn_protocol(&ssl_);
    return p != nullptr ? std::string_view(p) : std::string_view();
}

std::string_view TlsSession::ciphersuite() const {
    if (!handshake_done_) return {};
    const char* p = mbedtls_ssl_get_ciphersuite(&ssl_);
    return p != nullptr ? std::string_view(p) : std::string_view();
}

std::string_view TlsSession::version() const {
    if (!handshake_done_) return {};
    const char* p = mbedtls_ssl_get_version(&ssl_);
    return p != nullptr ? std::string_view(p) : std::string_view();
}

std::uint32_t TlsSession::verify_flags() const { return mbedtls_ssl_get_verify_result(&ssl_); }

bool TlsSession::save(SavedSession& out) const {
    if (!handshake_done_) return false;
    mbedtls_ssl_session_free(&out.session_);
    mbedtls_ssl_session_init(&out.session_);
    out.valid_ = mbedtls_ssl_get_session(&ssl_, &out.session_) == 0;
    return out.valid_;
}

}  // namespace tls
