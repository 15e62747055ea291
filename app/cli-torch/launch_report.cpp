// The launcher's one error line, chosen from the ranks' reports and exits. A failure shows up on
// every rank: the rank that failed reports its own error ("error"), the others that they lost
// it or waited too long for it ("peer"). The line printed is the root cause: the earliest own
// error or death of a rank, else the report of a rank that waited in vain (naming the silent
// one), else the first report.
#include "launch_report.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <iostream>

#include "switchyard/core/errors.h"

namespace sy::cli {
namespace {

std::string signal_name(int signal) {
    const char* abbrev = ::sigabbrev_np(signal);
    return abbrev ? "SIG" + std::string(abbrev) : "signal " + std::to_string(signal);
}

// Binds the port as rank 0's TCPStore will (all addresses, IPv6 dual stack when there is one);
// true when that works. SO_REUSEADDR as the store sets it, so a port in TIME_WAIT counts as free.
bool port_free(int port) {
    int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_in6 a6{};
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_any;
    a6.sin6_port = htons(static_cast<uint16_t>(port));
    const int one = 1;
    if (fd >= 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a6), sizeof a6) == 0;
        ::close(fd);
        return ok;
    }
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a4{};
    a4.sin_family = AF_INET;
    a4.sin_addr.s_addr = htonl(INADDR_ANY);
    a4.sin_port = htons(static_cast<uint16_t>(port));
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a4), sizeof a4) == 0;
    ::close(fd);
    return ok;
}

int any_free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t size = sizeof a;
    const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) == 0;
    if (fd >= 0) ::close(fd);
    SY_CHECK(ok, IoError, std::string("cannot find a free port on 127.0.0.1: ") + std::strerror(errno));
    return ntohs(a.sin_port);
}

}  // namespace

int prepare_master_port(const LaunchOptions& options) {
    if (options.master_port == 0) return any_free_port();
    SY_CHECK(options.node_rank != 0 || port_free(options.master_port), UsageError,
             "--master-port " + std::to_string(options.master_port) +
                 ": the port is in use on this machine (another job, or a previous run still holding it); pick a "
                 "free one with --master-port");
    return options.master_port;
}

void LaunchReport::add_bytes(RankProcess& rank, const std::string& bytes) {
    rank.partial += bytes;
    std::size_t end;
    while ((end = rank.partial.find('\n')) != std::string::npos) {
        const std::string line = rank.partial.substr(0, end);
        rank.partial.erase(0, end + 1);
        const std::size_t tab = line.find('\t');
        Event e{rank.rank, tab == std::string::npos ? "error" : line.substr(0, tab),
                tab == std::string::npos ? line : line.substr(tab + 1)};
        m_failed |= e.kind == "error" || e.kind == "peer";
        m_events.push_back(std::move(e));
    }
}

void LaunchReport::note_exit(const RankProcess& rank) {
    if (rank.stopped_by_launcher) {
        m_stopped.push_back(rank.rank);
        return;
    }
    if (WIFSIGNALED(rank.status)) {
        m_failed = true;
        m_events.push_back({rank.rank, "signal",
                            "rank " + std::to_string(rank.rank) + " was killed by " + signal_name(WTERMSIG(rank.status))});
        return;
    }
    const int code = WEXITSTATUS(rank.status);
    bool reported = false;
    for (const Event& e : m_events) reported |= e.rank == rank.rank;
    if (code == 0 || code == 130 || reported) return;
    m_failed = true;
    m_events.push_back({rank.rank, "exit", "rank " + std::to_string(rank.rank) + " exited with status " + std::to_string(code)});
}

std::string LaunchReport::choose(int& exit_code) const {
    exit_code = 1;
    for (const Event& e : m_events)
        if (e.kind == "error" || e.kind == "signal" || e.kind == "exit") return e.message;
    for (const Event& e : m_events) {
        if (e.kind != "peer") continue;
        if (m_stopped.size() == 1)   // the others gave up on it and it never answered
            return "rank " + std::to_string(m_stopped[0]) + " stopped responding and was stopped; " + e.message;
        return e.message;
    }
    if (interrupted || !m_events.empty()) {
        exit_code = 130;
        return "cancelled";
    }
    exit_code = 0;
    return "";
}

int LaunchReport::finish() const {
    int code = 0;
    const std::string message = choose(code);
    if (!message.empty()) std::cerr << "error: " << message << "\n";
    return code;
}

}  // namespace sy::cli
