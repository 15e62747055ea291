#pragma once
// The command line a window action is equivalent to, for the log ("switchyard apply ... -o OUT")
// and for the provenance the library records (the CLI records its argv joined by spaces, so an
// export from the window and the same command typed in a shell record the same text).
#include <QString>
#include <QStringList>
#include <string>

namespace sy::gui {

// `text` as one shell word: unchanged when it holds only safe characters, else in single quotes.
QString shell_quote(const QString& text);
// argv as a shell command line, each word quoted as needed (what the log shows).
QString shell_command(const QStringList& argv);
// argv joined by single spaces, unquoted: what `switchyard` records as its command line.
std::string recorded_command(const QStringList& argv);

}  // namespace sy::gui
