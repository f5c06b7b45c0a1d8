// OutputFile: where `tunstack get -o FILE` writes the body, so that a failed download never destroys
// an existing FILE.
//
// The body goes to a new temporary file next to FILE, `FILE.part-XXXXXX` (mkostemp: a unique name
// created with O_EXCL, then mode 0644 less the umask, as a plain open(2) would have made FILE). Being
// in the same directory, hence on the same filesystem, it can replace FILE with one atomic rename(2).
// commit() fsyncs it and renames it onto FILE; discard(), and the destructor unless committed,
// removes it. Until commit() FILE is not touched: a refused connection, a timeout, a bad response
// or an interrupt leaves it as it was, and no temporary file behind.
//
// A symbolic link FILE is followed (the link stays, its target is replaced), as writing through it
// would. A FILE that exists and is not a regular file (/dev/null, a FIFO, a terminal) is written
// directly: renaming onto it would replace the device node itself, and there is nothing to lose.
//
// `-` and the names of standard output (/dev/stdout, /dev/fd/1, /proc/self/fd/1) write to fd 1 in
// place (to_stdout()): /dev/stdout is a symlink to whatever the caller redirected stdout to, and
// renaming a temporary file onto that would replace the caller's file instead of writing into
// their descriptor (and break a pipe). A failed download may then have written part of the body.
//
// Errors are one line naming the file ("-o /x/y: cannot create a temporary file in /x: Permission
// denied").
#pragma once

#include <string>

#include "stack/base/result.hpp"

namespace tunstack {

class OutputFile {
public:
    static stack::Result<OutputFile, std::string> open(const std::string& path);

    OutputFile(OutputFile&& other) noexcept;
    OutputFile& operator=(OutputFile&&) = delete;
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;
    ~OutputFile();

    // Where to write(2) the body.
    int fd() const { return fd_; }
    // The temporary file being written ("" when writing directly to a non-regular FILE).
    const std::string& temp_path() const { return temp_; }
    // True when the body goes to standard output (-o -, -o /dev/stdout, ...).
    bool to_stdout() const { return stdout_; }
    static bool names_stdout(const std::string& path);

    // Makes FILE the complete body: fsync, close, rename onto FILE. On error the temporary file is
    // removed and FILE left as it was. Call at most once.
    stack::Result<void, std::string> commit();
    // Abandons the download: the temporary file is removed, FILE stays as it was.
    void discard();

private:
    OutputFile(std::string path, std::string target, std::string temp, int fd)
        : path_(std::move(path)), target_(std::move(target)), temp_(std::move(temp)), fd_(fd) {}

    std::string path_;    // as given to -o (for messages)
    std::string target_;  // what the rename replaces (path_, or a symlink's target)
    std::string temp_;
    int fd_ = -1;
    bool stdout_ = false;
};

}  // namespace tunstack
