// TLS counters, kept by whoever owns the sessions (tunstackd's ServiceHost, a test) and updated by
// TlsSession. Exported as "stat NAME VALUE" lines: tls.handshakes_ok, tls.handshakes_resumed,
// tls.handshake_failed.<reason> (one per tls::Reason), tls.failed.<reason> (errors after the
// handshake), tls.close_notify_sent / _received, tls.sessions_active (gauge).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "tls/error.hpp"

namespace tls {

struct Counters {
    std::uint64_t handshakes_ok = 0;
    std::uint64_t handshakes_resumed = 0;  // of handshakes_ok: abbreviated (session ticket)
    std::uint64_t close_notify_sent = 0;
    std::uint64_t close_notify_received = 0;
    std::uint64_t sessions_active = 0;    // gauge: TlsSession objects alive
    std::uint64_t sessions_rejected = 0;  // connections refused because the session limit was hit
    std::array<std::uint64_t, kReasonCount> handshake_failed{};  // by Reason
    std::array<std::uint64_t, kReasonCount> failed{};            // after the handshake, by Reason

    // Appends "stat tls.NAME VALUE\n" lines.
    void append_stats(std::string& out) const {
        auto line = [&](const std::string& name, std::uint64_t v) {
            out += "stat tls.";
            out += name;
            out += ' ';
            out += std::to_string(v);
            out += '\n';
        };
        line("handshakes_ok", handshakes_ok);
        line("handshakes_resumed", handshakes_resumed);
        line("close_notify_sent", close_notify_sent);
        line("close_notify_received", close_notify_received);
        line("sessions_active", sessions_active);
        line("sessions_rejected", sessions_rejected);
        for (std::size_t i = 0; i < kReasonCount; ++i) {
            line("handshake_failed." + std::string(to_string(static_cast<Reason>(i))),
                 handshake_failed[i]);
        }
        for (std::size_t i = 0; i < kReasonCount; ++i) {
            line("failed." + std::string(to_string(static_cast<Reason>(i))), failed[i]);
        }
    }
};

}  // namespace tls
