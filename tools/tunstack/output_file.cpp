#include "tools/tunstack/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

namespace tunstack {

namespace {
std::string dir_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string errno_text() { return std::strerror(errno); }
}  // namespace

bool OutputFile::names_stdout(const std::string& path) {
    return path == "-" || path == "/dev/stdout" || path == "/dev/fd/1" || path == "/proc/self/fd/1";
}

stack::Result<OutputFile, std::string> OutputFile::open(const std::string& path) {
    const std::string what = "-o " + path + ": ";
    if (path.empty()) return stack::Err(std::string("-o: empty file name"));
    if (names_stdout(path)) {
        // Standard output is written in place (a dup of fd 1): whatever the caller redirected it
        // to (a file, a pipe) stays theirs; nothing is renamed over it.
        const int fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        if (fd < 0) return stack::Err(what + "standard output: " + errno_text());
        OutputFile out(path, "", "", fd);
        out.stdout_ = true;
        return out;
    }
    std::string target = path;
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
        // Follow the link so that it survives and its target is what gets replaced.
        if (char* real = realpath(path.c_str(), nullptr)) {
            target = real;
            std::free(real);
        }
    }
    if (stat(target.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return stack::Err(what + std::strerror(EISDIR));
        if (!S_ISREG(st.st_mode)) {
            // A device, FIFO or socket: written in place (no O_TRUNC needed, nothing to replace).
            const int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC);
            if (fd < 0) return stack::Err(what + errno_text());
            return OutputFile(path, target, "", fd);
        }
    } else if (errno != ENOENT) {
        return stack::Err(what + errno_text());
    }
    std::string tmpl = target + ".part-XXXXXX";
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');
    const int fd = mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) {
        return stack::Err(what + "cannot create a temporary file in " + dir_of(target) + ": " +
                          errno_text());
    }
    std::string temp(name.data());
    // mkostemp creates mode 0600; give the file what open(path, O_CREAT, 0644) would have.
    const mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0644 & ~mask) != 0) {
        const std::string why = errno_text();
        close(fd);
        unlink(temp.c_str());
        return stack::Err(what + "fchmod " + temp + ": " + why);
    }
    return OutputFile(path, std::move(target), std::move(temp), fd);
}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : path_(std::move(other.path_)),
      target_(std::move(other.target_)),
      temp_(std::move(other.temp_)),
      fd_(std::exchange(other.fd_, -1)),
      stdout_(other.stdout_) {
    other.temp_.clear();
}

OutputFile::~OutputFile() { discard(); }

stack::Result<void, std::string> OutputFile::commit() {
    const std::string what = "-o " + path_ + ": ";
    if (fd_ < 0) return stack::Err(what + "already committed or discarded");
    if (temp_.empty()) {  // written in place
        const int rc = close(std::exchange(fd_, -1));
        if (rc != 0) return stack::Err(what + "close: " + errno_text());
        return stack::Ok{};
    }
    // The data must be on disk before the name points at it, or a crash could leave FILE empty.
    if (fsync(fd_) != 0) {
        const std::string why = errno_text();
        discard();
        return stack::Err(what + "fsync " + temp_ + ": " + why);
    }
    if (close(std::exchange(fd_, -1)) != 0) {
        const std::string why = errno_text();
        discard();
        return stack::Err(what + "close " + temp_ + ": " + why);
    }
    if (rename(temp_.c_str(), target_.c_str()) != 0) {
        const std::string why = errno_text();
        discard();
        return stack::Err(what + "rename from " + temp_ + ": " + why);
    }
    temp_.clear();
    return stack::Ok{};
}

void OutputFile::discard() {
    if (fd_ >= 0) close(std::exchange(fd_, -1));
    if (!temp_.empty()) {
        unlink(temp_.c_str());
        temp_.clear();
    }
}

}  // namespace tunstack
