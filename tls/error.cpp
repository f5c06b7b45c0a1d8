#include "tls/error.hpp"

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509.h>

#include <array>
#include <cstdio>

#include "tls/mbedtls_compat.hpp"

namespace tls {

std::string_view to_string(Reason r) {
    switch (r) {
        case Reason::NoSharedCipher: return "no_shared_cipher";
        case Reason::BadVersion: return "bad_version";
        case Reason::AlertReceived: return "alert_received";
        case Reason::PeerReset: return "peer_reset";
        case Reason::PeerClosed: return "peer_closed";
        case Reason::Timeout: return "timeout";
        case Reason::BadRecord: return "bad_record";
        case Reason::BadHandshake: return "bad_handshake";
        case Reason::BadCertificate: return "bad_certificate";
        case Reason::NoApplicationProtocol: return "no_application_protocol";
        case Reason::Internal: return "internal";
    }
    return "internal";
}

std::string_view to_string(VerifyFailure f) {
    switch (f) {
        case VerifyFailure::None: return "none";
        case VerifyFailure::Untrusted: return "untrusted";
        case VerifyFailure::Expired: return "expired";
        case VerifyFailure::NotYetValid: return "not yet valid";
        case VerifyFailure::WrongName: return "wrong name";
        case VerifyFailure::Other: return "other";
    }
    return "other";
}

VerifyFailure verify_failure(std::uint32_t flags) {
    if (flags == 0) return VerifyFailure::None;
    if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) return VerifyFailure::WrongName;
    if (flags & MBEDTLS_X509_BADCERT_EXPIRED) return VerifyFailure::Expired;
    if (flags & MBEDTLS_X509_BADCERT_FUTURE) return VerifyFailure::NotYetValid;
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) return VerifyFailure::Untrusted;
    return VerifyFailure::Other;
}

std::string describe_verify_flags(std::uint32_t flags) {
    struct Flag {
        std::uint32_t bit;
        const char* text;
    };
    static constexpr std::array<Flag, 13> kFlags{{
        {MBEDTLS_X509_BADCERT_CN_MISMATCH, "wrong name (the certificate is not for this host)"},
        {MBEDTLS_X509_BADCERT_EXPIRED, "expired"},
        {MBEDTLS_X509_BADCERT_FUTURE, "not yet valid"},
        {MBEDTLS_X509_BADCERT_NOT_TRUSTED, "untrusted (not signed by a trusted CA)"},
        {MBEDTLS_X509_BADCERT_REVOKED, "revoked"},
        {MBEDTLS_X509_BADCERT_MISSING, "no certificate"},
        {MBEDTLS_X509_BADCERT_KEY_USAGE, "key usage does not allow this use"},
        {MBEDTLS_X509_BADCERT_EXT_KEY_USAGE, "extended key usage does not allow this use"},
        {MBEDTLS_X509_BADCERT_NS_CERT_TYPE, "certificate type does not allow this use"},
        {MBEDTLS_X509_BADCERT_BAD_MD, "signed with an unacceptable hash"},
        {MBEDTLS_X509_BADCERT_BAD_PK, "signed with an unacceptable algorithm"},
        {MBEDTLS_X509_BADCERT_BAD_KEY, "unacceptable key (e.g. a curve we do not accept)"},
        {MBEDTLS_X509_BADCERT_OTHER, "rejected"},
    }};
    std::string out;
    for (const Flag& f : kFlags) {
        if ((flags & f.bit) == 0) continue;
        if (!out.empty()) out += ", ";
        out += f.text;
    }
    if (out.empty()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "flags 0x%x", flags);
        out = buf;
    }
    return out;
}

std::string mbedtls_message(int code) {
    char buf[256];
    mbedtls_strerror(code, buf, sizeof buf);
    return buf;
}

std::string_view alert_name(int d) {
    switch (d) {
        case MBEDTLS_SSL_ALERT_MSG_CLOSE_NOTIFY: return "close_notify";
        case MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE: return "unexpected_message";
        case MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC: return "bad_record_mac";
        case MBEDTLS_SSL_ALERT_MSG_RECORD_OVERFLOW: return "record_overflow";
        case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE: return "handshake_failure";
        case MBEDTLS_SSL_ALERT_MSG_BAD_CERT: return "bad_certificate";
        case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT: return "unsupported_certificate";
        case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED: return "certificate_revoked";
        case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED: return "certificate_expired";
        case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN: return "certificate_unknown";
        case MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER: return "illegal_parameter";
        case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA: return "unknown_ca";
        case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED: return "access_denied";
        case MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR: return "decode_error";
        case MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR: return "decrypt_error";
        case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION: return "protocol_version";
        case MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY: return "insufficient_security";
        case MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR: return "internal_error";
        case MBEDTLS_SSL_ALERT_MSG_INAPROPRIATE_FALLBACK: return "inappropriate_fallback";
        case MBEDTLS_SSL_ALERT_MSG_USER_CANCELED: return "user_canceled";
        case MBEDTLS_SSL_ALERT_MSG_NO_RENEGOTIATION: return "no_renegotiation";
        case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_EXT: return "unsupported_extension";
        case MBEDTLS_SSL_ALERT_MSG_UNRECOGNIZED_NAME: return "unrecognized_name";
        case MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL: return "no_application_protocol";
        default: return "unknown alert";
    }
}

Reason classify(int code) { return compat::reason_for(code); }

std::string Error::message() const {
    std::string out;
    switch (reason) {
        case Reason::NoSharedCipher: out = "no shared cipher suite or key-exchange group"; break;
        case Reason::BadVersion: out = "protocol version not supported (TLS 1.2 only)"; break;
        case Reason::AlertReceived:
            out = "the peer sent a fatal alert";
            if (alert >= 0) {
                out += ": " + std::string(alert_name(alert)) + " (" + std::to_string(alert) + ")";
            }
            break;
        case Reason::PeerReset: out = "connection reset by the peer"; break;
        case Reason::PeerClosed: out = "the peer closed the connection without close_notify"; break;
        case Reason::Timeout: out = "handshake timed out"; break;
        case Reason::BadRecord: out = "bad TLS record"; break;
        case Reason::BadHandshake: out = "bad handshake message"; break;
        case Reason::BadCertificate:
            out = "certificate verification failed";
            if (verify_flags != 0) out += ": " + describe_verify_flags(verify_flags);
            break;
        case Reason::NoApplicationProtocol: out = "no application protocol (ALPN) in common"; break;
        case Reason::Internal: out = "TLS error"; break;
    }
    if (!detail.empty()) out += " (" + detail + ")";
    if (code != 0) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "-0x%04x", static_cast<unsigned>(-code));
        out += " [mbedTLS " + std::string(hex) + ": " + mbedtls_message(code) + "]";
    }
    return out;
}

}  // namespace tls
