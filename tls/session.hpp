// TlsSession: one TLS 1.2 connection (client or server) over a ByteStream, with mbedTLS doing the
// protocol. This file and session.cpp are the only code that knows both mbedTLS and the stream.
//
// Non-blocking and event-driven like the socket underneath: every call does what it can now and
// returns. The owner calls advance() (and read()/write()) whenever the stream reports readiness; a
// session never loops waiting. The BIO callbacks map the stream onto mbedTLS:
//   send: bytes taken, or MBEDTLS_ERR_SSL_WANT_WRITE when the stream takes nothing (never 0, which
//         mbedTLS would take as success with bytes still pending);
//   recv: bytes, MBEDTLS_ERR_SSL_WANT_READ when nothing is buffered, 0 at end of stream (mbedTLS:
//         MBEDTLS_ERR_SSL_CONN_EOF), a network error code after a reset.
//
// Phases: Handshake → Open → Closing → Closed, or Failed from anywhere.
//   write() returns the plaintext bytes taken. When mbedtls_ssl_write answers WANT_WRITE, the
//   record holding the data has already been built and is partly sent: those bytes count as taken,
//   and the rest of the record is flushed (compat::flush_output, which is what mbedTLS's "call
//   again with the same buffer" does) before anything else is written, on the next
//   write()/advance(). read() returns plaintext bytes; 0 means nothing now, or (peer_closed()) that
//   the peer sent close_notify. Decrypted bytes can wait inside mbedTLS: has_buffered_input() tells
//   the owner to read again without waiting for the stream (DESIGN.md §3.9). close() sends
//   close_notify (after pending output), then shuts the stream's sending side (FIN); the session is
//   Closed when both went out. A FIN without close_notify is truncation: read() fails with
//   Reason::PeerClosed. Errors are fatal: the session records an Error (reason + mbedTLS code +
//   message), sends a fatal alert when mbedTLS did not and TLS allows one (garbage, bad handshake
//   messages), and is Failed. fail() lets the owner end it for reasons only it sees (the handshake
//   deadline, a TCP reset).
#pragma once

#include <mbedtls/ssl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "tls/byte_stream.hpp"
#include "tls/config.hpp"
#include "tls/error.hpp"
#include "tls/stats.hpp"

namespace tls {

// A client's copy of an established session, to resume it later (RFC 5077 ticket inside).
class SavedSession {
public:
    SavedSession();
    ~SavedSession();
    SavedSession(const SavedSession&) = delete;
    SavedSession& operator=(const SavedSession&) = delete;
    bool valid() const { return valid_; }

private:
    friend class TlsSession;
    mbedtls_ssl_session session_;
    bool valid_ = false;
};

// Whom a client expects to talk to. `server_name`, a DNS name, is sent as SNI and checked against
// the certificate's DNS names (mbedTLS); `ipv4` (host byte order), for URLs with an address
// literal, is checked against its iPAddress names (here: mbedTLS 2.28 does not) and no SNI is sent
// (RFC 6066 §3 forbids literals).
struct ClientTarget {
    std::string server_name;
    std::optional<std::uint32_t> ipv4;
};

class TlsSession {
public:
    enum class Phase : std::uint8_t { Handshake, Open, Closing, Closed, Failed };

    static stack::Result<std::unique_ptr<TlsSession>, Error> server(
        std::shared_ptr<const ServerConfig> config, ByteStream& stream, TlsStats* stats);
    static stack::Result<std::unique_ptr<TlsSession>, Error> client(
        std::shared_ptr<const ClientConfig> config, ByteStream& stream, const ClientTarget& target,
        TlsStats* stats, const SavedSession* resume = nullptr);
    ~TlsSession();
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    // Drives whatever is in progress: the handshake, pending output, the close. Returns the phase.
    Phase advance();
    // Plaintext in. Ok(0): nothing now (wait for readable), or peer_closed().
    stack::Result<std::size_t, Error> read(stack::MutBytes out);
    // Plaintext out: bytes taken (0: wait for writable). Only in Open.
    stack::Result<std::size_t, Error> write(stack::Bytes data);
    // Starts the orderly close (close_notify, then FIN). Idempotent.
    void close();
    // Ends the session with `reason` (no alert: used when the peer is gone or stalled).
    void fail(Reason reason, std::string detail = {});

    Phase phase() const { return phase_; }
    bool handshake_done() const { return handshake_done_; }
    bool peer_closed() const { return peer_closed_; }
    // Plaintext or a whole record already inside mbedTLS: read() again without waiting.
    bool has_buffered_input() const;
    // Output mbedTLS holds that the stream has not taken yet.
    bool has_pending_output() const;
    const std::optional<Error>& error() const { return error_; }

    bool resumed() const { return resumed_; }
    std::string_view alpn() const;
    std::string_view ciphersuite() const;
    std::string_view version() const;
    // Client: the certificate verification result (MBEDTLS_X509_BADCERT_* flags).
    std::uint32_t verify_flags() const;
    // Client: a copy of the session for later resumption; false if there is none yet.
    bool save(SavedSession& out) const;

private:
    TlsSession(ByteStream& stream, TlsStats* stats);
    static int bio_send(void* self, const unsigned char* buf, std::size_t len);
    static int bio_recv(void* self, unsigned char* buf, std::size_t len);
    static int verify_ip(void* self, mbedtls_x509_crt* crt, int depth, std::uint32_t* flags);
    void step_handshake();
    void step_close();
    // Flushes pending output; false if some is still pending (or the session failed).
    bool flush();
    void fail_code(int code);
    void record_failure(Error e);

    ByteStream& stream_;
    TlsStats* stats_;
    std::shared_ptr<const void> config_;  // keeps the mbedtls_ssl_config alive
    mbedtls_ssl_context ssl_;
    bool ssl_ready_ = false;
    Phase phase_ = Phase::Handshake;
    bool handshake_done_ = false;
    bool resumed_ = false;
    bool peer_closed_ = false;
    bool close_requested_ = false;
    bool close_notify_written_ = false;
    std::optional<StreamError> stream_error_;  // what the BIO last saw besides WouldBlock
    bool recv_would_block_ = false;            // the BIO's last recv found the stream empty
    std::optional<std::uint32_t> expected_ipv4_;
    std::optional<Error> error_;
};

std::string_view to_string(TlsSession::Phase p);

}  // namespace tls
