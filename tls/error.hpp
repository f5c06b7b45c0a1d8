// TLS errors: why a handshake or a session failed, as a small enum (the reason, also the name of a
// counter) plus the mbedTLS error code and a message that names both (mbedtls_strerror).
//
// Reasons are coarse on purpose: they are what an operator can act on (the peer wanted a cipher we
// refuse, an old protocol version, our certificate is not trusted by it, it vanished, ...). The
// code and the message keep the detail.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tls {

enum class Reason : std::uint8_t {
    NoSharedCipher,  // no ciphersuite (or key-exchange group) both sides accept
    BadVersion,      // the peer wants a protocol version other than TLS 1.2
    AlertReceived,   // the peer sent a fatal alert
    PeerReset,       // the TCP connection was reset (or timed out) under us
    PeerClosed,      // TCP FIN without close_notify (during the handshake, or truncation after it)
    Timeout,         // the handshake did not finish before its deadline
    BadRecord,       // a record that does not parse or authenticate (garbage, bad MAC)
    BadHandshake,    // a handshake message that does not parse or is out of order
    BadCertificate,  // the peer's certificate failed verification (see VerifyFailure)
    NoApplicationProtocol,  // ALPN: no protocol in common
    Internal,               // anything else (allocation, RNG, configuration, misuse)
};
inline constexpr std::size_t kReasonCount = static_cast<std::size_t>(Reason::Internal) + 1;

// The counter-friendly name: "no_shared_cipher", "bad_version", ...
std::string_view to_string(Reason r);

// Certificate verification failures, decoded from mbedTLS's MBEDTLS_X509_BADCERT_* flags.
enum class VerifyFailure : std::uint8_t { None, Untrusted, Expired, NotYetValid, WrongName, Other };
std::string_view to_string(VerifyFailure f);
// The most telling failure in `flags` (wrong name > expired > not yet valid > untrusted > other).
VerifyFailure verify_failure(std::uint32_t flags);
// Every flag spelled out, e.g. "untrusted (not signed by a trusted CA), expired".
std::string describe_verify_flags(std::uint32_t flags);

struct Error {
    Reason reason = Reason::Internal;
    int code = 0;                    // the mbedTLS error code (negative), 0 if none
    std::uint32_t verify_flags = 0;  // for BadCertificate
    int alert = -1;                  // for AlertReceived: the alert description number
    std::string detail;              // extra context from the caller (e.g. the stream error)

    // One line, e.g. "no shared cipher (mbedTLS -0x7380: SSL - The server has no ciphersuites in
    // common with the client)" or "certificate verification failed: untrusted (...)".
    std::string message() const;
};

// mbedtls_strerror as a string.
std::string mbedtls_message(int code);
// The name of a TLS alert description (RFC 5246 §7.2, RFC 7301), e.g. "handshake_failure".
std::string_view alert_name(int description);

// The reason an mbedTLS handshake/read/write error code stands for.
Reason classify(int code);

}  // namespace tls
