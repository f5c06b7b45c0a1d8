// tunstack get's -o FILE handling (tools/tunstack/output_file.hpp): the body goes to a temporary file
// next to FILE that replaces it only on commit(); discard() (or destruction) leaves FILE as it was and
// no temporary behind; non-regular files are written in place; a symlink keeps pointing at its
// (replaced) target.
#include "tools/tunstack/output_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>

namespace tunstack {
namespace {

class OutputFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/output_file_test.XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        for (const auto& name : entries()) unlink((dir_ + "/" + name).c_str());
        rmdir(dir_.c_str());
    }
    std::set<std::string> entries() const {
        std::set<std::string> out;
        if (DIR* d = opendir(dir_.c_str())) {
            while (dirent* e = readdir(d)) {
                const std::string n = e->d_name;
                if (n != "." && n != "..") out.insert(n);
            }
            closedir(d);
        }
        return out;
    }
    std::string path(const std::string& name) const { return dir_ + "/" + name; }
    static void put(const std::string& p, const std::string& text) { std::ofstream(p) << text; }
    static std::string get(const std::string& p) {
        std::ifstream in(p);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    static void write_all(const OutputFile& f, const std::string& text) {
        ASSERT_EQ(::write(f.fd(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
    }
    std::string dir_;
};

TEST_F(OutputFileTest, DiscardLeavesAnExistingFileIntactAndNoTemporary) {
    put(path("f"), "precious");
    {
        auto f = OutputFile::open(path("f"));
        ASSERT_TRUE(f) << f.error();
        EXPECT_EQ(f->temp_path().rfind(path("f.part-"), 0), 0u) << f->temp_path();
        write_all(*f, "partial download");
        EXPECT_EQ(get(path("f")), "precious");  // untouched while the download runs
        EXPECT_EQ(entries().size(), 2u);
        f->discard();
    }
    EXPECT_EQ(get(path("f")), "precious");
    EXPECT_EQ(entries(), std::set<std::string>{"f"});
    {
        auto f = OutputFile::open(path("f"));  // destroyed without commit: same as discard
        ASSERT_TRUE(f) << f.error();
        write_all(*f, "x");
    }
    EXPECT_EQ(get(path("f")), "precious");
    EXPECT_EQ(entries(), std::set<std::string>{"f"});
}

TEST_F(OutputFileTest, CommitReplacesTheFileWithMode0644LessTheUmask) {
    put(path("f"), "old contents, longer than the new");
    const mode_t old_mask = umask(022);
    auto f = OutputFile::open(path("f"));
    umask(old_mask);
    ASSERT_TRUE(f) << f.error();
    write_all(*f, "new");
    ASSERT_TRUE(f->commit());
    EXPECT_EQ(get(path("f")), "new");
    EXPECT_EQ(entries(), std::set<std::string>{"f"});
    struct stat st {};
    ASSERT_EQ(stat(path("f").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    EXPECT_FALSE(f->commit());  // only once
}

TEST_F(OutputFileTest, CommitCreatesAMissingFile) {
    auto f = OutputFile::open(path("new"));
    ASSERT_TRUE(f) << f.error();
    EXPECT_EQ(entries().count("new"), 0u);  // not before the commit
    write_all(*f, "body");
    ASSERT_TRUE(f->commit());
    EXPECT_EQ(get(path("new")), "body");
    EXPECT_EQ(entries(), std::set<std::string>{"new"});
}

TEST_F(OutputFileTest, SymlinkKeepsPointingAtItsReplacedTarget) {
    put(path("target"), "old");
    ASSERT_EQ(symlink(path("target").c_str(), path("link").c_str()), 0);
    auto f = OutputFile::open(path("link"));
    ASSERT_TRUE(f) << f.error();
    write_all(*f, "new");
    ASSERT_TRUE(f->commit());
    struct stat st {};
    ASSERT_EQ(lstat(path("link").c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(get(path("target")), "new");
    EXPECT_EQ(entries(), (std::set<std::string>{"link", "target"}));
}

TEST_F(OutputFileTest, NonRegularFilesAreWrittenInPlace) {
    auto f = OutputFile::open("/dev/null");
    ASSERT_TRUE(f) << f.error();
    EXPECT_TRUE(f->temp_path().empty());
    write_all(*f, "discarded");
    ASSERT_TRUE(f->commit());
    struct stat st {};
    ASSERT_EQ(stat("/dev/null", &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));  // still the device, not replaced by a file
}

TEST_F(OutputFileTest, ErrorsNameTheFile) {
    auto d = OutputFile::open(dir_);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error(), "-o " + dir_ + ": Is a directory");
    auto m = OutputFile::open(path("missing-dir/f"));
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().find("-o " + path("missing-dir/f") +
                             ": cannot create a temporary file in " + path("missing-dir")),
              std::string::npos)
        << m.error();
    EXPECT_TRUE(entries().empty());
}

}  // namespace
}  // namespace tunstack

// Issue 11: `-o -` and `-o /dev/stdout` write into the caller's fd 1 in place. Before, /dev/stdout
// was followed to the file the caller had redirected stdout to, and a temporary file was renamed
// over it: a new inode, so the caller's descriptor never saw the body (and `>>` lost the old data).
class StdoutRedirect {
public:
    explicit StdoutRedirect(const std::string& path) {
        std::fflush(stdout);
        saved_ = dup(STDOUT_FILENO);
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, STDOUT_FILENO);
        close(fd);
    }
    ~StdoutRedirect() {
        std::fflush(stdout);
        dup2(saved_, STDOUT_FILENO);
        close(saved_);
    }

private:
    int saved_ = -1;
};

TEST(OutputFileStdout, DashAndDevStdoutWriteIntoFdOneInPlace) {
    for (const char* name : {"-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"}) {
        char dir_tmpl[] = "/tmp/tunstack-stdout-XXXXXX";
        ASSERT_NE(mkdtemp(dir_tmpl), nullptr);
        const std::string target = std::string(dir_tmpl) + "/redirected";
        { std::ofstream(target) << "before "; }
        struct stat before {};
        ASSERT_EQ(stat(target.c_str(), &before), 0);
        {
            StdoutRedirect r(target);
            auto out = tunstack::OutputFile::open(name);
            ASSERT_TRUE(out.ok()) << name << ": " << out.error();
            EXPECT_TRUE(out->to_stdout()) << name;
            EXPECT_EQ(out->temp_path(), "") << name;
            ASSERT_EQ(write(out->fd(), "body", 4), 4);
            ASSERT_TRUE(out->commit().ok()) << name;
        }
        struct stat after {};
        ASSERT_EQ(stat(target.c_str(), &after), 0);
        EXPECT_EQ(after.st_ino, before.st_ino) << name << ": the caller's file was replaced";
        std::ifstream in(target);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        EXPECT_EQ(text, "before body") << name;
        unlink(target.c_str());
        rmdir(dir_tmpl);
    }
}

TEST(OutputFileStdout, OnlyTheNamesOfStdoutAreStdout) {
    EXPECT_TRUE(tunstack::OutputFile::names_stdout("-"));
    EXPECT_TRUE(tunstack::OutputFile::names_stdout("/dev/stdout"));
    EXPECT_FALSE(tunstack::OutputFile::names_stdout("./-x"));
    EXPECT_FALSE(tunstack::OutputFile::names_stdout("/dev/stderr"));
    EXPECT_FALSE(tunstack::OutputFile::names_stdout("stdout"));
}
