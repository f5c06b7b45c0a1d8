#include "drivers/pcap_writer.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace drivers {
namespace {

constexpr std::size_t kBufferSize = std::size_t{64} * 1024;

// The pcap file header (24 bytes) and record header (16 bytes), in native byte order. Written field
// by field into the buffer: no struct layout assumptions.
struct FileHeader {
    std::uint32_t magic = kPcapMagicMicros;
    std::uint16_t version_major = 2;
    std::uint16_t version_minor = 4;
    std::int32_t thiszone = 0;
    std::uint32_t sigfigs = 0;
    std::uint32_t snaplen = 0;
    std::uint32_t linktype = kLinktypeRaw;
};

}  // namespace

stack::Result<PcapWriter, Error> PcapWriter::open(const std::string& path, std::uint32_t snaplen) {
    if (snaplen == 0) {
        return stack::Err{Error::invalid("pcap " + path + ": snap length must be > 0")};
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return stack::Err{Error::system(errno, "cannot open pcap file " + path)};
    PcapWriter w(fd, path, snaplen);
    FileHeader h;
    h.snaplen = snaplen;
    w.append(&h.magic, 4);
    w.append(&h.version_major, 2);
    w.append(&h.version_minor, 2);
    w.append(&h.thiszone, 4);
    w.append(&h.sigfigs, 4);
    w.append(&h.snaplen, 4);
    w.append(&h.linktype, 4);
    // Write the header now, so an empty capture is still a valid file and a full disk shows at
    // once.
    if (auto r = w.write_out(); !r) return stack::Err{r.error()};
    return w;
}

PcapWriter::PcapWriter(int fd, std::string path, std::uint32_t snaplen)
    : fd_(fd), path_(std::move(path)), snaplen_(snaplen) {
    buffer_.reserve(kBufferSize);
}

PcapWriter::PcapWriter(PcapWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      snaplen_(other.snaplen_),
      buffer_(std::move(other.buffer_)),
      error_(std::move(other.error_)),
      records_(other.records_) {}

PcapWriter::~PcapWriter() {
    if (fd_ < 0) return;
    (void)write_out();
    ::close(fd_);
}

timeval PcapWriter::wall_clock_now() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    timeval tv{};
    tv.tv_sec = ts.tv_sec;
    tv.tv_usec = static_cast<suseconds_t>(ts.tv_nsec / 1000);
    return tv;
}

void PcapWriter::append(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    buffer_.insert(buffer_.end(), p, p + size);
}

stack::Result<void, Error> PcapWriter::fail(int err, const char* op) {
    if (!error_) error_ = Error::system(err, std::string(op) + " pcap file " + path_);
    buffer_.clear();
    return stack::Err{*error_};
}

stack::Result<void, Error> PcapWriter::write_out() {
    if (error_) return stack::Err{*error_};
    std::size_t off = 0;
    // Bounded: each round writes at least one byte or fails; EINTR retries are capped.
    for (int eintr = 0; off < buffer_.size();) {
        ssize_t n = ::write(fd_, buffer_.data() + off, buffer_.size() - off);
        if (n < 0) {
            if (errno == EINTR && ++eintr < 8) continue;
            return fail(errno, "write to");
        }
        if (n == 0) return fail(EIO, "write to");
        off += static_cast<std::size_t>(n);
    }
    buffer_.clear();
    return stack::Ok{};
}

stack::Result<void, Error> PcapWriter::record(const timeval& ts, stack::Bytes packet) {
    if (error_) return stack::Err{*error_};
    const auto caplen = static_cast<std::uint32_t>(std::min<std::size_t>(packet.size(), snaplen_));
    const std::size_t need = 16 + caplen;
    if (buffer_.size() + need > kBufferSize) {
        if (auto r = write_out(); !r) return r;
    }
    const auto sec = static_cast<std::uint32_t>(ts.tv_sec);
    const auto usec = static_cast<std::uint32_t>(ts.tv_usec);
    const auto orig_len = static_cast<std::uint32_t>(packet.size());
    append(&sec, 4);
    append(&usec, 4);
    append(&caplen, 4);
    append(&orig_len, 4);
    append(packet.data(), caplen);
    ++records_;
    // A record bigger than the buffer (huge snaplen) goes out at once instead of growing the
    // buffer.
    if (buffer_.size() > kBufferSize) return write_out();
    return stack::Ok{};
}

stack::Result<void, Error> PcapWriter::record(stack::Instant since_epoch, stack::Bytes packet) {
    std::int64_t us = since_epoch.as_micros();
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(us / 1'000'000);
    tv.tv_usec = static_cast<suseconds_t>(us % 1'000'000);
    return record(tv, packet);
}

void PcapWriter::record_now(stack::Bytes packet) { (void)record(wall_clock_now(), packet); }

stack::Result<void, Error> PcapWriter::flush() { return write_out(); }

bool PcapTap::transmit(stack::Bytes packet) {
    const timeval ts = clock_();
    if (!inner_.transmit(packet)) return false;
    (void)writer_.record(ts, packet);
    return true;
}

bool PcapTap::transmit_gso(stack::Bytes packet, const stack::GsoInfo& gso) {
    const timeval ts = clock_();
    if (!inner_.transmit_gso(packet, gso)) return false;
    (void)writer_.record(ts, packet);
    return true;
}

}  // namespace drivers
