#include "job_runner.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace sy::gui {

QString error_message(const std::exception& error) {
    if (dynamic_cast<const sy::Error*>(&error) != nullptr) return QString::fromStdString(error.what());
    return QStringLiteral("internal error: ") + QString::fromStdString(error.what());
}

void lower_this_thread_priority() {
    // Best effort: failing to renice only costs responsiveness, never correctness.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
}

}  // namespace sy::gui
