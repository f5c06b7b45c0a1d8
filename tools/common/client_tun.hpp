// The TUN flags of the tunstack client's subcommands that run their own stack (`get`, `iperf3`):
// --tun, --host-addr, --addr, --mtu, --pcap, declared once and checked once, so that every
// subcommand spells, documents and validates them the same way.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "stack/base/result.hpp"
#include "tools/common/runtime.hpp"

namespace tools {

struct ClientTunFlags {
    std::string tun, host_addr, addr, pcap;
    std::uint32_t mtu = 1500;
};

// Adds the flags to a subcommand (--tun, --host-addr and --addr required).
void add_client_tun_flags(CLI::App& app, ClientTunFlags& f);

// The runtime options for the flags; error: one line naming the flag (a usage error, exit 2).
stack::Result<RuntimeOptions, std::string> client_runtime_options(const ClientTunFlags& f);

// A server address the client can never reach, since packets only leave through the TUN: its own
// --addr, or a loopback, unspecified, multicast or broadcast address. Empty when `server` is fine;
// else one line (a usage error, exit 2), so the client fails at once instead of at its timeout.
std::string unreachable_server(const RuntimeOptions& ro, stack::wire::Ipv4Address server);

}  // namespace tools
