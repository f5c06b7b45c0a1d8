// Logger: the daemon's and the client's stderr logging, with levels and rate limiting.
//
//   Logger log("tunstackd", LogLevel::Info);
//   log.error("no device");   // "tunstackd: error: no device"
//   log.warn("x");            // "tunstackd: warning: x"
//   log.info("ready: ...");   // "tunstackd: ready: ..."
//   log.debug("x");           // "tunstackd: debug: x"
//   log.limited(now, LogLevel::Warn, "syn-drop", "...");  // per-packet events: per kind
//
// Levels: error < warn < info < debug; a message is printed when its level is at or below the
// configured one (--log-level). Each message is one line written with a single write(2).
//
// Rate limiting (for events that can happen once per packet): each kind has a token bucket of
// `burst` messages refilled at `per_sec` per second; a message with no token is counted, not
// printed, and the next message of that kind that passes carries "(N similar messages suppressed)".
//
// Under systemd, when stderr is the journal (JOURNAL_STREAM names stderr's device and inode), each
// line starts with the sd-daemon priority prefix ("<3>" error, "<4>" warning, "<6>" info, "<7>"
// debug) so journalctl shows the level. Elsewhere, with set_timestamps(true) (the daemon, once its
// command line is accepted), each line starts with the UTC time, RFC 3339 with milliseconds
// ("2026-12-03T06:50:01.123Z tunstackd: ready ..."); the journal has its own timestamps.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "stack/base/time.hpp"

namespace tools {

enum class LogLevel : std::uint8_t { Error, Warn, Info, Debug };

std::optional<LogLevel> parse_log_level(std::string_view text);  // error|warn|info|debug
std::string_view to_string(LogLevel level);

class Logger {
public:
    explicit Logger(std::string prog, LogLevel level = LogLevel::Info);

    void set_level(LogLevel level) { level_ = level; }
    // Prefix lines with the wall-clock time when stderr is not the journal.
    void set_timestamps(bool on) { timestamps_ = on; }
    bool timestamps() const { return timestamps_ && !journal_; }
    // "2026-12-03T06:50:01.123Z " for `unix_us` microseconds since 1970 (public for tests).
    static std::string format_timestamp(std::int64_t unix_us);
    LogLevel level() const { return level_; }
    bool enabled(LogLevel level) const { return level <= level_; }
    const std::string& prog() const { return prog_; }

    void log(LogLevel level, std::string_view msg);
    void error(std::string_view msg) { log(LogLevel::Error, msg); }
    void warn(std::string_view msg) { log(LogLevel::Warn, msg); }
    void info(std::string_view msg) { log(LogLevel::Info, msg); }
    void debug(std::string_view msg) { log(LogLevel::Debug, msg); }

    // Rate-limited per `kind`. Returns true if the message was printed.
    bool limited(stack::Instant now, LogLevel level, std::string_view kind, std::string_view msg);
    void set_rate(double per_sec, double burst) {
        per_sec_ = per_sec;
        burst_ = burst;
    }
    // Messages suppressed so far, all kinds (tests).
    std::uint64_t suppressed_total() const { return suppressed_total_; }

    // The line log() would write (without the journal prefix); public for tests.
    std::string format(LogLevel level, std::string_view msg) const;

private:
    struct Bucket {
        double tokens = 0;
        stack::Instant refilled;
        std::uint64_t suppressed = 0;
        bool started = false;
    };
    std::string prog_;
    LogLevel level_;
    bool journal_ = false;
    bool timestamps_ = false;
    double per_sec_ = 1.0;
    double burst_ = 5.0;
    std::map<std::string, Bucket, std::less<>> buckets_;
    std::uint64_t suppressed_total_ = 0;
};

}  // namespace tools
