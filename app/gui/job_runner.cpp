#include "job_runner.h"

namespace sy::gui {

QString error_message(const std::exception& error) {
    if (dynamic_cast<const sy::Error*>(&error) != nullptr) return QString::fromStdString(error.what());
    return QStringLiteral("internal error: ") + QString::fromStdString(error.what());
}

}  // namespace sy::gui
