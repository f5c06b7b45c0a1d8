#include "tls/certgen.hpp"

#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <array>
#include <cstdio>
#include <ctime>

#include "tls/error.hpp"
#include "tls/mbedtls_compat.hpp"

namespace tls {

namespace {

// Every mbedTLS object generate_cert touches, freed on every path.
struct Work {
    Work() {
        mbedtls_pk_init(&key);
        mbedtls_pk_init(&issuer_key);
        mbedtls_x509_crt_init(&issuer_crt);
        mbedtls_x509write_crt_init(&crt);
        mbedtls_mpi_init(&serial);
    }
    ~Work() {
        mbedtls_mpi_free(&serial);
        mbedtls_x509write_crt_free(&crt);
        mbedtls_x509_crt_free(&issuer_crt);
        mbedtls_pk_free(&issuer_key);
        mbedtls_pk_free(&key);
    }
    Work(const Work&) = delete;
    Work& operator=(const Work&) = delete;
    mbedtls_pk_context key, issuer_key;
    mbedtls_x509_crt issuer_crt;
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
};

stack::Err<std::string> failed(const char* what, int code) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "-0x%04x", static_cast<unsigned>(-code));
    return stack::Err(std::string("certificate generation: ") + what + " (mbedTLS " + hex + ": " +
                      mbedtls_message(code) + ")");
}

// subjectAltName (RFC 5280 §4.2.1.6): SEQUENCE OF GeneralName, dNSName [2] IA5String and
// iPAddress [7] OCTET STRING, both implicitly tagged. asn1write fills the buffer from its end.
int write_san(const CertRequest& req, unsigned char* start, unsigned char*& p) {
    int len = 0;
    auto add = [&](int r) {
        if (r < 0) return false;
        len += r;
        return true;
    };
    for (auto it = req.ipv4s.rbegin(); it != req.ipv4s.rend(); ++it) {
        const std::array<unsigned char, 4> a = {
            static_cast<unsigned char>(*it >> 24), static_cast<unsigned char>(*it >> 16),
            static_cast<unsigned char>(*it >> 8), static_cast<unsigned char>(*it)};
        int item = mbedtls_asn1_write_raw_buffer(&p, start, a.data(), a.size());
        if (item < 0) return item;
        const int l = mbedtls_asn1_write_len(&p, start, static_cast<std::size_t>(item));
        const int t = mbedtls_asn1_write_tag(&p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7);
        if (!add(item) || !add(l) || !add(t)) return -1;
    }
    for (auto it = req.dns_names.rbegin(); it != req.dns_names.rend(); ++it) {
        int item = mbedtls_asn1_write_raw_buffer(
            &p, start, reinterpret_cast<const unsigned char*>(it->data()), it->size());
        if (item < 0) return item;
        const int l = mbedtls_asn1_write_len(&p, start, static_cast<std::size_t>(item));
        const int t = mbedtls_asn1_write_tag(&p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2);
        if (!add(item) || !add(l) || !add(t)) return -1;
    }
    const int l = mbedtls_asn1_write_len(&p, start, static_cast<std::size_t>(len));
    const int t =
        mbedtls_asn1_write_tag(&p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    if (!add(l) || !add(t)) return -1;
    return len;
}

}  // namespace

std::string x509_time(std::int64_t unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
    return buf;
}

stack::Result<GeneratedCert, std::string> generate_cert(const CertRequest& req, Rng& rng,
                                                        const GeneratedCert* issuer) {
    Work w;
    int ret = mbedtls_pk_setup(&w.key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (ret != 0) return failed("key setup", ret);
    const mbedtls_ecp_group_id curve =
        req.curve == CertRequest::Curve::P384 ? MBEDTLS_ECP_DP_SECP384R1 : MBEDTLS_ECP_DP_SECP256R1;
    ret = mbedtls_ecp_gen_key(curve, mbedtls_pk_ec(w.key), Rng::random, &rng);
    if (ret != 0) return failed("generating the key", ret);

    const std::string subject = "CN=" + req.common_name;
    std::string issuer_name = subject;
    mbedtls_pk_context* signer = &w.key;
    if (issuer != nullptr) {
        ret = mbedtls_x509_crt_parse(
            &w.issuer_crt, reinterpret_cast<const unsigned char*>(issuer->cert_pem.c_str()),
            issuer->cert_pem.size() + 1);
        if (ret != 0) return failed("parsing the issuer certificate", ret);
        ret = compat::parse_key(&w.issuer_key,
                                reinterpret_cast<const unsigned char*>(issuer->key_pem.c_str()),
                                issuer->key_pem.size() + 1, Rng::random, &rng);
        if (ret != 0) return failed("parsing the issuer key", ret);
        char dn[512];
        ret = mbedtls_x509_dn_gets(dn, sizeof dn, &w.issuer_crt.subject);
        if (ret < 0) return failed("reading the issuer name", ret);
        issuer_name = dn;
        signer = &w.issuer_key;
    }

    mbedtls_x509write_crt_set_version(&w.crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w.crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w.crt, &w.key);
    mbedtls_x509write_crt_set_issuer_key(&w.crt, signer);
    if ((ret = mbedtls_x509write_crt_set_subject_name(&w.crt, subject.c_str())) != 0) {
        return failed("subject name", ret);
    }
    if ((ret = mbedtls_x509write_crt_set_issuer_name(&w.crt, issuer_name.c_str())) != 0) {
        return failed("issuer name", ret);
    }
    std::array<unsigned char, 8> serial{};
    for (std::size_t i = 0; i < serial.size(); ++i) {
        serial[i] = static_cast<unsigned char>(req.serial >> (8 * (serial.size() - 1 - i)));
    }
    if ((ret = mbedtls_mpi_read_binary(&w.serial, serial.data(), serial.size())) != 0 ||
        (ret = compat::set_serial(&w.crt, &w.serial)) != 0) {
        return failed("serial number", ret);
    }
    if ((ret = mbedtls_x509write_crt_set_validity(&w.crt, req.not_before.c_str(),
                                                  req.not_after.c_str())) != 0) {
        return failed("validity", ret);
    }
    if ((ret = mbedtls_x509write_crt_set_basic_constraints(&w.crt, req.is_ca ? 1 : 0,
                                                           req.is_ca ? 0 : -1)) != 0) {
        return failed("basic constraints", ret);
    }
    if ((ret = mbedtls_x509write_crt_set_subject_key_identifier(&w.crt)) != 0 ||
        (ret = mbedtls_x509write_crt_set_authority_key_identifier(&w.crt)) != 0) {
        return failed("key identifiers", ret);
    }
    const unsigned int usage = req.is_ca
                                   ? (MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN)
                                   : MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
    if ((ret = mbedtls_x509write_crt_set_key_usage(&w.crt, usage)) != 0) {
        return failed("key usage", ret);
    }
    if (!req.dns_names.empty() || !req.ipv4s.empty()) {
        std::array<unsigned char, 2048> san{};
        unsigned char* p = san.data() + san.size();
        ret = write_san(req, san.data(), p);
        if (ret < 0) return failed("subjectAltName too large", ret);
        ret = mbedtls_x509write_crt_set_extension(
            &w.crt, MBEDTLS_OID_SUBJECT_ALT_NAME, MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
            p, static_cast<std::size_t>(san.data() + san.size() - p));
        if (ret != 0) return failed("subjectAltName", ret);
    }

    GeneratedCert out;
    std::array<unsigned char, 8192> pem{};
    ret = mbedtls_x509write_crt_pem(&w.crt, pem.data(), pem.size(), Rng::random, &rng);
    if (ret != 0) return failed("writing the certificate", ret);
    out.cert_pem = reinterpret_cast<const char*>(pem.data());
    pem.fill(0);
    ret = mbedtls_pk_write_key_pem(&w.key, pem.data(), pem.size());
    if (ret != 0) return failed("writing the key", ret);
    out.key_pem = reinterpret_cast<const char*>(pem.data());
    pem.fill(0);  // key material does not linger on the stack
    return out;
}

}  // namespace tls
