#pragma once
// One exception family for every library (style.md rule 4). Core code throws these with a
// user-facing message; only the front ends (app/cli/main.cpp, the GUI job runner) catch them.
#include <stdexcept>
#include <string>

namespace sy {

enum class ErrorCategory {
    checkpoint,     // malformed or inconsistent safetensors / index files
    config,         // config.json missing or invalid
    unknown_architecture,
    shape_mismatch,
    tokenizer,
    out_of_memory,
    cancelled,
    usage,          // bad arguments from the user
    io,             // filesystem errors
    peer,           // another process of a parallel job failed, hung or could not be reached
};

class Error : public std::runtime_error {
public:
    Error(ErrorCategory category, const std::string& message)
        : std::runtime_error(message), m_category(category) {}
    ErrorCategory category() const noexcept { return m_category; }

private:
    ErrorCategory m_category;
};

#define SY_DEFINE_ERROR(Name, category_value)                                          \
    class Name : public Error {                                                         \
    public:                                                                             \
        explicit Name(const std::string& message) : Error(category_value, message) {} \
    }

SY_DEFINE_ERROR(CheckpointError, ErrorCategory::checkpoint);
SY_DEFINE_ERROR(ConfigError, ErrorCategory::config);
SY_DEFINE_ERROR(UnknownArchitecture, ErrorCategory::unknown_architecture);
SY_DEFINE_ERROR(ShapeMismatch, ErrorCategory::shape_mismatch);
SY_DEFINE_ERROR(TokenizerError, ErrorCategory::tokenizer);
SY_DEFINE_ERROR(OutOfMemory, ErrorCategory::out_of_memory);
SY_DEFINE_ERROR(Cancelled, ErrorCategory::cancelled);
SY_DEFINE_ERROR(UsageError, ErrorCategory::usage);
SY_DEFINE_ERROR(IoError, ErrorCategory::io);
SY_DEFINE_ERROR(PeerError, ErrorCategory::peer);

#undef SY_DEFINE_ERROR

}  // namespace sy

// Throws ErrorType(message) when a condition that user input can break does not hold.
#define SY_CHECK(cond, ErrorType, message) \
    do {                                   \
        if (!(cond)) throw ErrorType(message); \
    } while (0)
