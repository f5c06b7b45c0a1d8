// PcapWriter: records packets to a classic pcap file (magic 0xa1b2c3d4 in native byte order,
// microsecond timestamps, LINKTYPE_RAW = 101 so Wireshark/tshark decode each record as IPv4/IPv6),
// and PcapTap, a PacketSink that records what it passes on.
//
// Invariants:
//  - Records are buffered (64 KiB) and written whole; a record larger than the snap length is
//  truncated
//    to it with the original length kept in orig_len, as pcap requires.
//  - Timestamps are parameters (tests are deterministic); record_now() reads CLOCK_REALTIME because
//  a
//    capture is compared with other captures and logs by wall-clock time. This is not the stack's
//    clock.
//  - After the first write error the writer stops writing and keeps that error; record_now() and
//  the
//    tap (which cannot return it) leave it for flush() and error() to report.
//  - The destructor flushes; call flush() first to see its error.
#pragma once

#include <sys/time.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "drivers/error.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/packet_sink.hpp"
#include "stack/base/result.hpp"
#include "stack/base/time.hpp"

namespace drivers {

inline constexpr std::uint32_t kPcapMagicMicros = 0xa1b2c3d4;
inline constexpr std::uint32_t kLinktypeRaw = 101;

class PcapWriter {
public:
    // Creates (or truncates) `path` and writes the file header. The error names the path.
    static stack::Result<PcapWriter, Error> open(const std::string& path,
                                                 std::uint32_t snaplen = 65535);

    PcapWriter(PcapWriter&& other) noexcept;
    PcapWriter& operator=(PcapWriter&&) = delete;
    PcapWriter(const PcapWriter&) = delete;
    PcapWriter& operator=(const PcapWriter&) = delete;
    ~PcapWriter();

    // Appends one record stamped `ts` (wall-clock seconds + microseconds).
    stack::Result<void, Error> record(const timeval& ts, stack::Bytes packet);
    // Same, with the time given as microseconds since the Unix epoch.
    stack::Result<void, Error> record(stack::Instant since_epoch, stack::Bytes packet);
    // Records with the current wall-clock time; an error is kept for flush()/error().
    void record_now(stack::Bytes packet);

    // Writes out everything buffered. Returns the first error seen so far, if any.
    stack::Result<void, Error> flush();

    const std::optional<Error>& error() const { return error_; }
    std::uint64_t records() const { return records_; }
    const std::string& path() const { return path_; }

    // CLOCK_REALTIME as a timeval.
    static timeval wall_clock_now();

private:
    PcapWriter(int fd, std::string path, std::uint32_t snaplen);
    void append(const void* data, std::size_t size);
    stack::Result<void, Error> write_out();
    stack::Result<void, Error> fail(int err, const char* op);

    int fd_ = -1;
    std::string path_;
    std::uint32_t snaplen_;
    std::vector<std::uint8_t> buffer_;
    std::optional<Error> error_;
    std::uint64_t records_ = 0;
};

// Records every packet the inner sink accepts (stamped with `clock()`, taken before the hand-over),
// so a packet refused and retried is recorded once. Write errors stay in the writer (see error()).
// A TCP super-packet (TSO) is recorded as it is handed to the device, one record larger than the MTU
// (with a partial TCP checksum if it has one), as tcpdump on a Linux TSO device shows it.
class PcapTap : public stack::PacketSink {
public:
    using Clock = std::function<timeval()>;
    PcapTap(stack::PacketSink& inner, PcapWriter& writer, Clock clock = &PcapWriter::wall_clock_now)
        : inner_(inner), writer_(writer), clock_(std::move(clock)) {}

    bool transmit(stack::Bytes packet) override;
    bool transmit_gso(stack::Bytes packet, const stack::GsoInfo& gso) override;

private:
    stack::PacketSink& inner_;
    PcapWriter& writer_;
    Clock clock_;
};

}  // namespace drivers
