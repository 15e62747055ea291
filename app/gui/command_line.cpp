#include "command_line.h"

#include <QRegularExpression>

namespace sy::gui {

QString shell_quote(const QString& text) {
    static const QRegularExpression safe(QStringLiteral("^[A-Za-z0-9_./:=,+@%-]+$"));
    if (safe.match(text).hasMatch()) return text;
    QString quoted = text;
    quoted.replace(QLatin1Char('\''), QLatin1String("'\\''"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

QString shell_command(const QStringList& argv) {
    QStringList words;
    for (const QString& word : argv) words << shell_quote(word);
    return words.join(QLatin1Char(' '));
}

std::string recorded_command(const QStringList& argv) { return argv.join(QLatin1Char(' ')).toStdString(); }

}  // namespace sy::gui
