// The `--nproc` launcher: starts the ranks, forwards Ctrl-C, stops the rest once one failed,
// and turns the ranks' reports into one error line (launch_report.cpp). See launcher.h.
#include "launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>

#include "launch_report.h"
#include "switchyard/core/errors.h"

extern char** environ;

namespace sy::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<int> g_signal{0};
extern "C" void on_launcher_signal(int signal) { g_signal.store(signal); }

// How long the others get to notice a failed rank and close their files before they are
// stopped: a dead rank is noticed at once (its sockets close), a silent one only after
// --timeout, when the rank waiting on it gives up and fails in turn.
constexpr auto k_grace = std::chrono::seconds(5);
constexpr auto k_kill_after = std::chrono::seconds(5);

// The environment of one rank: ours, minus what a rank must not inherit, plus its place in
// the job. Built before fork: the child only calls async-signal-safe functions.
std::vector<std::string> rank_environment(const LaunchOptions& o, int port, int local) {
    static const char* k_replaced[] = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK",
                                       "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_USE_AGENT_STORE",
                                       k_launcher_variable, k_report_fd_variable};
    std::vector<std::string> env;
    bool has_threads = false;
    for (char** e = environ; *e; ++e) {
        const std::string entry = *e, name = entry.substr(0, entry.find('='));
        bool replaced = false;
        for (const char* r : k_replaced) replaced |= name == r;
        has_threads |= name == "OMP_NUM_THREADS";
        if (!replaced) env.push_back(entry);
    }
    const int rank = o.node_rank * o.nproc + local;
    for (const auto& [name, value] :
         {std::pair<std::string, std::string>{"RANK", std::to_string(rank)},
          {"WORLD_SIZE", std::to_string(o.nnodes * o.nproc)},
          {"LOCAL_RANK", std::to_string(local)},
          {"LOCAL_WORLD_SIZE", std::to_string(o.nproc)},
          {"GROUP_RANK", std::to_string(o.node_rank)},
          {"MASTER_ADDR", o.master_addr},
          {"MASTER_PORT", std::to_string(port)},
          {k_launcher_variable, std::to_string(::getpid())},
          {k_report_fd_variable, "3"}})
        env.push_back(name + "=" + value);
    // The machine's cores shared out, as torchrun does (it sets OMP_NUM_THREADS=1): N ranks of
    // all-core BLAS on the same cores would fight over them. OpenBLAS reads it too.
    if (!has_threads) {
        const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
        env.push_back("OMP_NUM_THREADS=" + std::to_string(std::max(1u, cores / unsigned(o.nproc))));
    }
    return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (std::string& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

// Starts one rank; its report pipe becomes fd 3 in the child.
RankProcess spawn_rank(const std::string& exe, std::vector<std::string> argv, std::vector<std::string> env,
                       int rank) {
    int fds[2];
    SY_CHECK(::pipe2(fds, O_CLOEXEC) == 0, IoError, std::string("cannot create a pipe: ") + std::strerror(errno));
    std::vector<char*> args = c_strings(argv), envp = c_strings(env);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    SY_CHECK(pid >= 0, IoError, std::string("cannot start rank ") + std::to_string(rank) + ": " + std::strerror(errno));
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);   // a launcher that dies takes its ranks along
        if (::getppid() != parent) ::_exit(1);
        if (fds[1] == 3) ::fcntl(3, F_SETFD, 0);
        else ::dup2(fds[1], 3);
        ::execve(exe.c_str(), args.data(), envp.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    RankProcess p;
    p.rank = rank;
    p.pid = pid;
    p.report_fd = fds[0];
    return p;
}

// Reads what the ranks reported so far (non-blocking).
void read_reports(std::vector<RankProcess>& ranks, LaunchReport& report) {
    for (RankProcess& p : ranks) {
        if (p.report_fd < 0) continue;
        char buffer[4096];
        ssize_t n;
        while ((n = ::read(p.report_fd, buffer, sizeof buffer)) > 0) report.add_bytes(p, std::string(buffer, std::size_t(n)));
        if (n == 0) {
            ::close(p.report_fd);
            p.report_fd = -1;
        }
    }
}

void wait_for_reports(const std::vector<RankProcess>& ranks, int timeout_ms) {
    std::vector<pollfd> fds;
    for (const RankProcess& p : ranks)
        if (p.report_fd >= 0) fds.push_back({p.report_fd, POLLIN, 0});
    if (fds.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    else ::poll(fds.data(), fds.size(), timeout_ms);
}

void signal_alive(std::vector<RankProcess>& ranks, int signal, bool by_us) {
    for (RankProcess& p : ranks)
        if (p.running) {
            ::kill(p.pid, signal);
            p.stopped_by_launcher |= by_us;
        }
}

void reap(std::vector<RankProcess>& ranks, LaunchReport& report) {
    for (RankProcess& p : ranks) {
        if (!p.running) continue;
        int status = 0;
        if (::waitpid(p.pid, &status, WNOHANG) != p.pid) continue;
        p.running = false;
        p.status = status;
        report.note_exit(p);
    }
}

// The monitor loop: until every rank exited.
void supervise(std::vector<RankProcess>& ranks, LaunchReport& report) {
    std::optional<Clock::time_point> failed_at, term_at;
    const auto running = [&] {
        for (const RankProcess& p : ranks) if (p.running) return true;
        return false;
    };
    while (running()) {
        wait_for_reports(ranks, 100);
        read_reports(ranks, report);
        reap(ranks, report);
        if (const int signal = g_signal.exchange(0)) {
            report.interrupted = true;
            signal_alive(ranks, signal, false);
        }
        if (!failed_at && report.failed()) failed_at = Clock::now();
        if (failed_at && !term_at && Clock::now() - *failed_at > k_grace) {
            signal_alive(ranks, SIGTERM, true);
            signal_alive(ranks, SIGCONT, true);   // a stopped (SIGSTOP, debugger) rank sees SIGTERM now
            term_at = Clock::now();
        }
        if (term_at && Clock::now() - *term_at > k_kill_after) signal_alive(ranks, SIGKILL, true);
    }
    read_reports(ranks, report);
}

}  // namespace

int launch_ranks(const LaunchOptions& options, const std::vector<std::string>& argv) {
    const int port = prepare_master_port(options);
    std::error_code ec;
    const std::string exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    SY_CHECK(!ec, IoError, "cannot find this program's own file (/proc/self/exe): " + ec.message());
    std::signal(SIGINT, on_launcher_signal);
    std::signal(SIGTERM, on_launcher_signal);
    std::vector<RankProcess> ranks;
    LaunchReport report(options);
    for (int local = 0; local < options.nproc; ++local) {
        ranks.push_back(spawn_rank(exe, argv, rank_environment(options, port, local), options.node_rank * options.nproc + local));
        report.note_start(ranks.back());
    }
    supervise(ranks, report);
    return report.finish();
}

}  // namespace sy::cli
