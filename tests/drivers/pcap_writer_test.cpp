// PcapWriter and PcapTap: files read back by libtins (an independent reader) and byte by byte.
#include "drivers/pcap_writer.hpp"

#include <gtest/gtest.h>
#include <tins/tins.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

using drivers::PcapTap;
using drivers::PcapWriter;

// A unique file under the test's temporary directory, removed at the end of the test.
class TempFile {
public:
    TempFile() {
        const char* dir = std::getenv("TEST_TMPDIR");
        std::string tmpl = std::string(dir != nullptr ? dir : "/tmp") + "/tunstack-pcap-XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        int fd = ::mkstemp(buf.data());
        EXPECT_GE(fd, 0);
        if (fd >= 0) ::close(fd);
        path_ = buf.data();
    }
    ~TempFile() { std::remove(path_.c_str()); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

std::vector<std::uint8_t> read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::uint32_t native32(const std::vector<std::uint8_t>& b, std::size_t off) {
    std::uint32_t v;
    std::memcpy(&v, b.data() + off, 4);
    return v;
}

// A real IPv4/UDP packet built by libtins, so the reader has something it can decode.
std::vector<std::uint8_t> udp_packet(std::uint16_t sport, std::size_t payload_len) {
    std::vector<std::uint8_t> payload(payload_len);
    for (std::size_t i = 0; i < payload_len; ++i)
        payload[i] = static_cast<std::uint8_t>(i * 13 + sport);
    Tins::IP ip = Tins::IP("198.18.0.2", "198.18.0.1") / Tins::UDP(9, sport) /
                  Tins::RawPDU(payload.data(), static_cast<std::uint32_t>(payload.size()));
    return ip.serialize();
}

TEST(PcapWriterTest, FileHeaderIsClassicPcapWithRawLinktype) {
    TempFile f;
    {
        auto w = PcapWriter::open(f.path(), 2000);
        ASSERT_TRUE(w.ok()) << w.error().message;
    }
    auto bytes = read_all(f.path());
    ASSERT_EQ(bytes.size(), 24u);
    EXPECT_EQ(native32(bytes, 0), 0xa1b2c3d4u);
    std::uint16_t major, minor;
    std::memcpy(&major, bytes.data() + 4, 2);
    std::memcpy(&minor, bytes.data() + 6, 2);
    EXPECT_EQ(major, 2);
    EXPECT_EQ(minor, 4);
    EXPECT_EQ(native32(bytes, 16), 2000u);  // snaplen
    EXPECT_EQ(native32(bytes, 20), 101u);   // LINKTYPE_RAW
}

TEST(PcapWriterTest, LibtinsReadsBackTheSameBytesAndCount) {
    TempFile f;
    std::vector<std::vector<std::uint8_t>> sent;
    {
        auto w = PcapWriter::open(f.path());
        ASSERT_TRUE(w.ok());
        // Enough packets to overflow the 64 KiB buffer several times.
        for (std::uint16_t i = 0; i < 300; ++i) {
            sent.push_back(udp_packet(static_cast<std::uint16_t>(1000 + i), 20 + i * 3));
            timeval ts{1700000000 + i, static_cast<suseconds_t>(i * 1000)};
            ASSERT_TRUE(w->record(ts, sent.back()).ok());
        }
        EXPECT_EQ(w->records(), 300u);
        ASSERT_TRUE(w->flush().ok());
    }
    Tins::FileSniffer sniffer(f.path());
    std::size_t count = 0;
    for (int guard = 0; guard < 1000; ++guard) {
        Tins::Packet pkt = sniffer.next_packet();
        if (!pkt) break;
        ASSERT_LT(count, sent.size());
        const Tins::IP* ip = pkt.pdu()->find_pdu<Tins::IP>();
        ASSERT_NE(ip, nullptr) << "record " << count << " not decoded as IPv4";
        EXPECT_EQ(ip->src_addr(), Tins::IPv4Address("198.18.0.1"));
        EXPECT_EQ(pkt.pdu()->serialize(), sent[count]) << "record " << count;
        EXPECT_EQ(pkt.timestamp().seconds(), 1700000000 + static_cast<long>(count));
        EXPECT_EQ(pkt.timestamp().microseconds(), static_cast<long>(count * 1000));
        ++count;
    }
    EXPECT_EQ(count, sent.size());
}

TEST(PcapWriterTest, InstantTimestampsAndSnapLengthTruncation) {
    TempFile f;
    auto pkt = udp_packet(7, 200);
    {
        auto w = PcapWriter::open(f.path(), 100);
        ASSERT_TRUE(w.ok());
        ASSERT_TRUE(w->record(stack::Instant::from_micros(1'700'000'123'456'789), pkt).ok());
    }
    auto bytes = read_all(f.path());
    ASSERT_EQ(bytes.size(), 24u + 16u + 100u);
    EXPECT_EQ(native32(bytes, 24), 1'700'000'123u);  // seconds
    EXPECT_EQ(native32(bytes, 28), 456'789u);        // microseconds
    EXPECT_EQ(native32(bytes, 32), 100u);            // caplen
    EXPECT_EQ(native32(bytes, 36), pkt.size());      // orig_len
    EXPECT_TRUE(std::equal(bytes.begin() + 40, bytes.end(), pkt.begin()));
}

TEST(PcapWriterTest, OpenErrorNamesThePath) {
    auto w = PcapWriter::open("/nonexistent-dir-tunstack/capture.pcap");
    ASSERT_FALSE(w.ok());
    EXPECT_NE(w.error().message.find("/nonexistent-dir-tunstack/capture.pcap"), std::string::npos);
    EXPECT_EQ(w.error().sys_errno, ENOENT);
}

TEST(PcapWriterTest, WriteErrorIsReportedAndSticky) {
    if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
    auto w = PcapWriter::open("/dev/full");
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().sys_errno, ENOSPC);
    EXPECT_NE(w.error().message.find("/dev/full"), std::string::npos);
}

struct CountingSink : stack::PacketSink {
    int accepted = 0;
    int accepted_gso = 0;
    std::uint16_t last_gso_size = 0;
    bool full = false;
    bool transmit(stack::Bytes) override {
        if (full) return false;
        ++accepted;
        return true;
    }
    bool transmit_gso(stack::Bytes, const stack::GsoInfo& gso) override {
        if (full) return false;
        ++accepted_gso;
        last_gso_size = gso.gso_size;
        return true;
    }
};

// A TSO super-packet is recorded once, whole, as handed to the device (like tcpdump on a TSO NIC),
// and passed on with its GsoInfo; a refused one is not recorded.
TEST(PcapWriterTest, PcapTapRecordsASuperPacketWhole) {
    TempFile f;
    CountingSink sink;
    Tins::IP big = Tins::IP("198.18.0.1", "198.18.0.2") / Tins::TCP(40000, 80) /
                   Tins::RawPDU(std::vector<std::uint8_t>(20000, 0x61));
    const std::vector<std::uint8_t> super = big.serialize();
    stack::GsoInfo gso{1460, 40, 20, 16, true, 14};
    {
        auto w = PcapWriter::open(f.path());
        ASSERT_TRUE(w.ok());
        PcapTap tap(sink, *w, [] { return timeval{7, 0}; });
        sink.full = true;
        EXPECT_FALSE(tap.transmit_gso(super, gso));
        sink.full = false;
        EXPECT_TRUE(tap.transmit_gso(super, gso));
        ASSERT_TRUE(w->flush().ok());
        EXPECT_EQ(w->records(), 1u);
    }
    EXPECT_EQ(sink.accepted_gso, 1);
    EXPECT_EQ(sink.accepted, 0);
    EXPECT_EQ(sink.last_gso_size, 1460u);
    Tins::FileSniffer sniffer(f.path());
    Tins::Packet p = sniffer.next_packet();
    ASSERT_TRUE(p);
    EXPECT_EQ(p.pdu()->serialize(), super);
    EXPECT_FALSE(sniffer.next_packet());
}

TEST(PcapWriterTest, PcapTapRecordsOnlyWhatTheInnerSinkTook) {
    TempFile f;
    CountingSink sink;
    std::vector<std::uint8_t> a = udp_packet(1, 10);
    std::vector<std::uint8_t> b = udp_packet(2, 10);
    {
        auto w = PcapWriter::open(f.path());
        ASSERT_TRUE(w.ok());
        long tick = 0;
        PcapTap tap(sink, *w, [&] { return timeval{42, ++tick}; });
        EXPECT_TRUE(tap.transmit(a));
        sink.full = true;
        EXPECT_FALSE(tap.transmit(b));  // refused: the caller will retry; not recorded
        sink.full = false;
        EXPECT_TRUE(tap.transmit(b));
        EXPECT_EQ(w->records(), 2u);
        ASSERT_TRUE(w->flush().ok());
        EXPECT_FALSE(w->error().has_value());
    }
    EXPECT_EQ(sink.accepted, 2);
    Tins::FileSniffer sniffer(f.path());
    Tins::Packet p1 = sniffer.next_packet();
    Tins::Packet p2 = sniffer.next_packet();
    Tins::Packet p3 = sniffer.next_packet();
    ASSERT_TRUE(p1);
    ASSERT_TRUE(p2);
    EXPECT_FALSE(p3);
    EXPECT_EQ(p1.pdu()->serialize(), a);
    EXPECT_EQ(p2.pdu()->serialize(), b);
    EXPECT_EQ(p1.timestamp().microseconds(), 1);
    EXPECT_EQ(p2.timestamp().microseconds(), 3);  // the refused attempt took a timestamp too
}

}  // namespace
