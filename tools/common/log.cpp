#include "tools/common/log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace tools {

std::optional<LogLevel> parse_log_level(std::string_view text) {
    if (text == "error") return LogLevel::Error;
    if (text == "warn" || text == "warning") return LogLevel::Warn;
    if (text == "info") return LogLevel::Info;
    if (text == "debug") return LogLevel::Debug;
    return std::nullopt;
}

std::string_view to_string(LogLevel level) {
    switch (level) {
        case LogLevel::Error: return "error";
        case LogLevel::Warn: return "warn";
        case LogLevel::Info: return "info";
        case LogLevel::Debug: return "debug";
    }
    return "?";
}

namespace {
// systemd sets JOURNAL_STREAM=DEV:INODE for the stream it connected to stdout/stderr.
bool stderr_is_journal() {
    const char* js = std::getenv("JOURNAL_STREAM");
    if (js == nullptr) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) != 0) return false;
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}
}  // namespace

Logger::Logger(std::string prog, LogLevel level)
    : prog_(std::move(prog)), level_(level), journal_(stderr_is_journal()) {}

std::string Logger::format(LogLevel level, std::string_view msg) const {
    std::string line = prog_;
    line += ": ";
    switch (level) {
        case LogLevel::Error: line += "error: "; break;
        case LogLevel::Warn: line += "warning: "; break;
        case LogLevel::Info: break;
        case LogLevel::Debug: line += "debug: "; break;
    }
    for (char c : msg) line += (c == '\n' || c == '\r') ? ' ' : c;  // one line per message
    line += '\n';
    return line;
}

std::string Logger::format_timestamp(std::int64_t unix_us) {
    const std::time_t secs = static_cast<std::time_t>(unix_us / 1'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[96];  // room for any int fields, so the compiler sees no truncation
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(unix_us / 1000 % 1000));
    return buf;
}

void Logger::log(LogLevel level, std::string_view msg) {
    if (!enabled(level)) return;
    std::string line = format(level, msg);
    if (journal_) {
        static constexpr const char* kPrefix[] = {"<3>", "<4>", "<6>", "<7>"};
        line.insert(0, kPrefix[static_cast<int>(level)]);
    } else if (timestamps_) {
        timespec ts{};
        clock_gettime(CLOCK_REALTIME, &ts);
        line.insert(0, format_timestamp(std::int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000));
    }
    std::fflush(stderr);  // keep order with anything written through stdio
    std::string_view rest = line;
    while (!rest.empty()) {
        const ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
}

bool Logger::limited(stack::Instant now, LogLevel level, std::string_view kind,
                     std::string_view msg) {
    if (!enabled(level)) return false;
    auto it = buckets_.find(kind);
    if (it == buckets_.end()) it = buckets_.emplace(std::string(kind), Bucket{}).first;
    Bucket& b = it->second;
    if (!b.started) {
        b.started = true;
        b.tokens = burst_;
        b.refilled = now;
    } else if (now > b.refilled) {
        const double secs = static_cast<double>((now - b.refilled).as_micros()) / 1e6;
        b.tokens = std::min(burst_, b.tokens + secs * per_sec_);
        b.refilled = now;
    }
    if (b.tokens < 1.0) {
        ++b.suppressed;
        ++suppressed_total_;
        return false;
    }
    b.tokens -= 1.0;
    if (b.suppressed > 0) {
        std::string m(msg);
        m += " (" + std::to_string(b.suppressed) + " similar message" +
             (b.suppressed == 1 ? "" : "s") + " suppressed)";
        b.suppressed = 0;
        log(level, m);
    } else {
        log(level, msg);
    }
    return true;
}

}  // namespace tools
