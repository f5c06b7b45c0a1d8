// mbedtls_compat: every call whose form depends on the mbedTLS major version, in one place.
//
// Debian 12 ships mbedTLS 2.28 (TLS 1.2 at most). Everything else in tls/ uses only calls that are
// the same in 2.28 and 3.x, or goes through these functions, so porting to 3.x (and turning on
// TLS 1.3) is a change to this header alone (plus widening the version range in config.cpp). For
// each function the 3.x counterpart is named in its comment; that branch is not written out because
// it cannot be compiled or tested here, and untested compatibility code would only look like a
// port.
//
// Some functions read fields of mbedtls_ssl_context that 2.28 keeps public but 3.x marks
// MBEDTLS_PRIVATE: whether the running handshake is a resumption, the alert just received, and
// whether output is pending. 2.28 has no accessor for them.
#pragma once

#include <mbedtls/version.h>

#if MBEDTLS_VERSION_MAJOR != 2 || MBEDTLS_VERSION_MINOR < 28
#error \
    "tls/ targets mbedTLS 2.28 (Debian 12); for 3.x port tls/mbedtls_compat.hpp (see its comments)"
#endif

#include <mbedtls/asn1.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_internal.h>
#include <mbedtls/x509_crt.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include "tls/error.hpp"

namespace tls::compat {

// TLS 1.2 is both the minimum and the maximum. (3.x: mbedtls_ssl_conf_{min,max}_tls_version with
// MBEDTLS_SSL_VERSION_TLS1_2; TLS1_3 as the maximum once wanted.)
inline void set_tls12_only(mbedtls_ssl_config* conf) {
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
}

// The key-exchange groups, in preference order, terminated by MBEDTLS_ECP_DP_NONE. The list must
// outlive the config. (3.x: mbedtls_ssl_conf_groups with IANA group ids, e.g. MBEDTLS_SSL_IANA_TLS_
// GROUP_X25519, terminated by 0.)
inline void set_groups(mbedtls_ssl_config* conf, const mbedtls_ecp_group_id* groups) {
    mbedtls_ssl_conf_curves(conf, groups);
}

// Signature hashes accepted and offered (no SHA-1, no MD5), terminated by MBEDTLS_MD_NONE.
// (3.x: mbedtls_ssl_conf_sig_algs with MBEDTLS_TLS1_3_SIG_* / TLS 1.2 hash+sig pairs.)
inline void set_sig_hashes(mbedtls_ssl_config* conf, const int* hashes) {
    mbedtls_ssl_conf_sig_hashes(conf, hashes);
}

// Private key parsing. (3.x: both take f_rng, p_rng as extra arguments.)
inline int parse_key_file(mbedtls_pk_context* pk, const char* path,
                          int (*f_rng)(void*, unsigned char*, size_t), void* p_rng) {
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_parse_keyfile(pk, path, nullptr);
}
inline int parse_key(mbedtls_pk_context* pk, const unsigned char* key, std::size_t len,
                     int (*f_rng)(void*, unsigned char*, size_t), void* p_rng) {
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_parse_key(pk, key, len, nullptr, 0);
}

// Does the certificate's public key belong to this private key? (3.x: extra f_rng, p_rng.)
inline int check_pair(const mbedtls_pk_context* pub, const mbedtls_pk_context* prv,
                      int (*f_rng)(void*, unsigned char*, size_t), void* p_rng) {
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_check_pair(pub, prv);
}

// SHA-256 of a buffer. (3.x: mbedtls_sha256, which returns int the same way.)
inline int sha256(const unsigned char* in, std::size_t len, unsigned char out[32]) {
    return mbedtls_sha256_ret(in, len, out, 0);
}

// The handshake has completed. (3.x: mbedtls_ssl_is_handshake_over.)
inline bool handshake_over(const mbedtls_ssl_context* ssl) {
    return ssl->state == MBEDTLS_SSL_HANDSHAKE_OVER;
}

// While a handshake runs: whether it (still) resumes a session. A client sets this when it offers a
// session and clears it if the server's ServerHello starts a new one; nullopt once the handshake
// parameters are freed (at its end). (3.x: ssl->MBEDTLS_PRIVATE(handshake)->resume.)
inline std::optional<bool> handshake_resuming(const mbedtls_ssl_context* ssl) {
    if (ssl->handshake == nullptr) return std::nullopt;
    return ssl->handshake->resume != 0;
}

// After MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE: the alert description the peer sent (RFC 5246 §7.2).
// (3.x: ssl->MBEDTLS_PRIVATE(in_msg)[1].)
inline int received_alert(const mbedtls_ssl_context* ssl) {
    return ssl->in_msg != nullptr ? ssl->in_msg[1] : -1;
}

// Whether the last record mbedTLS prepared was an alert (it sends fatal alerts itself on many, not
// all, failures). (3.x: ssl->MBEDTLS_PRIVATE(out_msgtype).)
inline bool last_output_was_alert(const mbedtls_ssl_context* ssl) {
    return ssl->out_msgtype == MBEDTLS_SSL_MSG_ALERT;
}
// Its description, or -1 if the last record was not an alert. (3.x: ssl->MBEDTLS_PRIVATE(out_msg).)
inline int last_alert_sent(const mbedtls_ssl_context* ssl) {
    return last_output_was_alert(ssl) && ssl->out_msg != nullptr ? ssl->out_msg[1] : -1;
}

// Before the ClientHello's version was read (garbage, a broken first record) mbedTLS would write an
// alert record with version 0.0. Records carry TLS 1.2's 3.3 then, the only version we speak.
// (3.x: ssl->MBEDTLS_PRIVATE(tls_version) == MBEDTLS_SSL_VERSION_UNKNOWN → TLS1_2.)
inline void default_record_version(mbedtls_ssl_context* ssl) {
    if (ssl->major_ver == 0) {
        ssl->major_ver = MBEDTLS_SSL_MAJOR_VERSION_3;
        ssl->minor_ver = MBEDTLS_SSL_MINOR_VERSION_3;
    }
}

// Output prepared but not yet taken by the transport (after a WANT_WRITE), and the call that pushes
// it out. mbedtls_ssl_write's "call again with the same buffer" rule is exactly this flush (the
// record already holds the data), so the session flushes instead of keeping a copy of the buffer.
// (3.x: ssl->MBEDTLS_PRIVATE(out_left); mbedtls_ssl_flush_output is exported but declared only in
// library/ssl_misc.h.)
inline bool output_pending(const mbedtls_ssl_context* ssl) { return ssl->out_left > 0; }
inline int flush_output(mbedtls_ssl_context* ssl) { return mbedtls_ssl_flush_output(ssl); }

// Subject alternative names of a parsed certificate: calls fn(tag, bytes, len) for each GeneralName
// (tag is the context-specific tag number: 2 dNSName, 7 iPAddress). (3.x: same list; the
// ext_types check becomes mbedtls_x509_crt_has_ext_type.)
template <typename Fn>
void for_each_san(const mbedtls_x509_crt* crt, Fn&& fn) {
    if ((crt->ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME) == 0) return;
    for (const mbedtls_x509_sequence* cur = &crt->subject_alt_names; cur != nullptr;
         cur = cur->next) {
        if (cur->buf.p == nullptr) continue;
        fn(cur->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK, cur->buf.p, cur->buf.len);
    }
}

// ECDSA signature over a hash, DER-encoded into `sig` (at least MBEDTLS_ECDSA_MAX_LEN bytes).
// (3.x: one more argument, the size of `sig`, before `slen`.)
inline int ecdsa_sign(mbedtls_ecdsa_context* ctx, const unsigned char* hash, std::size_t hlen,
                      unsigned char* sig, std::size_t sig_size, std::size_t* slen,
                      int (*f_rng)(void*, unsigned char*, size_t), void* p_rng) {
    (void)sig_size;
    return mbedtls_ecdsa_write_signature(ctx, MBEDTLS_MD_SHA256, hash, hlen, sig, slen, f_rng,
                                         p_rng);
}

// Signature with a parsed private key through the pk layer (what the TLS handshake does), DER into
// `sig`. (3.x: the size of `sig` before `sig_len`.)
inline int pk_sign(mbedtls_pk_context* pk, const unsigned char* hash, std::size_t hlen,
                   unsigned char* sig, std::size_t sig_size, std::size_t* sig_len,
                   int (*f_rng)(void*, unsigned char*, size_t), void* p_rng) {
    (void)sig_size;
    return mbedtls_pk_sign(pk, MBEDTLS_MD_SHA256, hash, hlen, sig, sig_len, f_rng, p_rng);
}

// Which tls::Reason an error code from a handshake, read or write stands for. The codes are 2.28's;
// 3.x merged many of them (e.g. every MBEDTLS_ERR_SSL_BAD_HS_* into MBEDTLS_ERR_SSL_DECODE_ERROR,
// MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER and MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE), so this table changes
// with the port.
inline Reason reason_for(int code) {
    switch (code) {
        case MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN:
        case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE: return Reason::NoSharedCipher;
        case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION: return Reason::BadVersion;
        case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE: return Reason::AlertReceived;
        case MBEDTLS_ERR_NET_CONN_RESET:
        case MBEDTLS_ERR_NET_RECV_FAILED:
        case MBEDTLS_ERR_NET_SEND_FAILED: return Reason::PeerReset;
        case MBEDTLS_ERR_SSL_CONN_EOF: return Reason::PeerClosed;
        case MBEDTLS_ERR_SSL_TIMEOUT: return Reason::Timeout;
        case MBEDTLS_ERR_SSL_INVALID_RECORD:
        case MBEDTLS_ERR_SSL_INVALID_MAC:
        case MBEDTLS_ERR_SSL_UNEXPECTED_RECORD:
        case MBEDTLS_ERR_SSL_UNKNOWN_CIPHER:
        case MBEDTLS_ERR_SSL_COUNTER_WRAPPING: return Reason::BadRecord;
        case MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE:
        case MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO:
        case MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO:
        case MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE:
        case MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE_REQUEST:
        case MBEDTLS_ERR_SSL_BAD_HS_SERVER_KEY_EXCHANGE:
        case MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO_DONE:
        case MBEDTLS_ERR_SSL_BAD_HS_CLIENT_KEY_EXCHANGE:
        case MBEDTLS_ERR_SSL_BAD_HS_CLIENT_KEY_EXCHANGE_RP:
        case MBEDTLS_ERR_SSL_BAD_HS_CLIENT_KEY_EXCHANGE_CS:
        case MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE_VERIFY:
        case MBEDTLS_ERR_SSL_BAD_HS_CHANGE_CIPHER_SPEC:
        case MBEDTLS_ERR_SSL_BAD_HS_FINISHED:
        case MBEDTLS_ERR_SSL_BAD_HS_NEW_SESSION_TICKET:
        case MBEDTLS_ERR_SSL_BAD_INPUT_DATA:
        case MBEDTLS_ERR_SSL_PK_TYPE_MISMATCH:
        case MBEDTLS_ERR_SSL_INVALID_VERIFY_HASH: return Reason::BadHandshake;
        case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
        case MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED:
        case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE: return Reason::BadCertificate;
        default: break;
    }
    return Reason::Internal;
}

// x509write: the serial number. (3.x: mbedtls_x509write_crt_set_serial_raw with big-endian bytes.)
inline int set_serial(mbedtls_x509write_cert* crt, const mbedtls_mpi* serial) {
    return mbedtls_x509write_crt_set_serial(crt, serial);
}

}  // namespace tls::compat
