// Bad-input and round-trip tests for the safetensors header parser and the writer.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "switchyard/core/errors.h"
#include "switchyard/core/safetensors_header.h"
#include "switchyard/core/safetensors_writer.h"
#include "test_paths.h"

namespace fs = std::filesystem;
using sy::test::TempDir;

namespace {

// Writes `8-byte length + header + data_bytes` exactly as given (to build broken files).
fs::path write_raw(const fs::path& file, const std::string& header, std::size_t data_bytes, int64_t length_override = -1) {
    std::ofstream out(file, std::ios::binary);
    uint64_t n = length_override >= 0 ? static_cast<uint64_t>(length_override) : header.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>(n >> (8 * i)));
    out << header << std::string(data_bytes, '\0');
    return file;
}

std::string expect_error(const fs::path& file) {
    try {
        sy::read_safetensors_header(file);
    } catch (const sy::CheckpointError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no error for " << file;
    return "";
}

}  // namespace

TEST(SafetensorsHeader, ParsesValidHeaderAndMetadata) {
    TempDir dir;
    auto f = write_raw(dir.path() / "ok.safetensors",
                       R"({"__metadata__":{"format":"pt"},"b":{"dtype":"BF16","shape":[2,3],"data_offsets":[16,28]},)"
                       R"("a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                       28);
    auto h = sy::read_safetensors_header(f);
    ASSERT_EQ(h.tensors.size(), 2u);
    EXPECT_EQ(h.metadata.at("format"), "pt");
    const auto& b = h.tensors[0].name == "b" ? h.tensors[0] : h.tensors[1];
    EXPECT_EQ(b.dtype, sy::DType::bf16);
    EXPECT_EQ(b.shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(b.nbytes(), 12u);
}

TEST(SafetensorsHeader, AcceptsEmptyTensorsAndScalars) {
    TempDir dir;
    auto f = write_raw(dir.path() / "s.safetensors",
                       R"({"e":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})", 4);
    EXPECT_EQ(sy::read_safetensors_header(f).tensors.size(), 2u);
}

TEST(SafetensorsHeader, RejectsEmptyFile) {
    TempDir dir;
    std::ofstream(dir.path() / "empty.safetensors").close();
    EXPECT_NE(expect_error(dir.path() / "empty.safetensors").find("too short"), std::string::npos);
}

TEST(SafetensorsHeader, RejectsHeaderLengthPastEnd) {
    TempDir dir;
    auto f = write_raw(dir.path() / "long.safetensors", "{}", 0, 4096);
    EXPECT_NE(expect_error(f).find("runs past the end of the file"), std::string::npos);
}

TEST(SafetensorsHeader, RejectsInvalidJson) {
    TempDir dir;
    auto f = write_raw(dir.path() / "bad.safetensors", R"({"a": {"dtype": )", 0);
    EXPECT_NE(expect_error(f).find("not valid JSON"), std::string::npos);
}

TEST(SafetensorsHeader, RejectsUnknownDtype) {
    TempDir dir;
    auto f = write_raw(dir.path() / "dt.safetensors", R"({"w":{"dtype":"F12","shape":[1],"data_offsets":[0,1]}})", 1);
    auto msg = expect_error(f);
    EXPECT_NE(msg.find("tensor w: unknown dtype \"F12\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("BF16"), std::string::npos);
}

TEST(SafetensorsHeader, RejectsSizeMismatch) {
    TempDir dir;
    auto f = write_raw(dir.path() / "sz.safetensors", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8);
    EXPECT_NE(expect_error(f).find("needs 12 bytes but data_offsets span 8"), std::string::npos);
}

TEST(SafetensorsHeader, RejectsOverlap) {
    TempDir dir;
    auto f = write_raw(dir.path() / "ov.safetensors",
                       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12);
    EXPECT_NE(expect_error(f).find("overlap"), std::string::npos);
}

TEST(SafetensorsHeader, RejectsOffsetsOutOfRange) {
    TempDir dir;
    auto f = write_raw(dir.path() / "oor.safetensors", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8);
    EXPECT_NE(expect_error(f).find("run past the data section"), std::string::npos);
}

TEST(SafetensorsHeader, RejectsHolesAndTrailingBytes) {
    TempDir dir;
    auto hole = write_raw(dir.path() / "hole.safetensors", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8);
    EXPECT_NE(expect_error(hole).find("unused bytes"), std::string::npos);
    auto tail = write_raw(dir.path() / "tail.safetensors", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8);
    EXPECT_NE(expect_error(tail).find("after the last tensor"), std::string::npos);
}

TEST(SafetensorsHeader, RejectsDuplicateNames) {
    TempDir dir;
    auto f = write_raw(dir.path() / "dup.safetensors",
                       R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8);
    EXPECT_NE(expect_error(f).find("twice"), std::string::npos);
}

TEST(SafetensorsHeader, RejectsNegativeOrNonIntegerShape) {
    TempDir dir;
    auto f = write_raw(dir.path() / "neg.safetensors", R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4);
    EXPECT_NE(expect_error(f).find("non-negative integer"), std::string::npos);
}

TEST(SafetensorsHeader, TruncatedWrittenFileIsRejected) {
    TempDir dir;
    const fs::path f = dir.path() / "t.safetensors";
    {
        sy::SafetensorsWriter w(f, {{"x", sy::DType::f32, {64}}}, {});
        std::vector<float> data(64, 1.0f);
        w.write(data.data(), data.size() * 4);
        w.finish();
    }
    EXPECT_NO_THROW(sy::read_safetensors_header(f));
    fs::resize_file(f, fs::file_size(f) - 10);
    EXPECT_NE(expect_error(f).find("truncated"), std::string::npos);
}

TEST(SafetensorsWriter, RoundTripsHeaderAndAlignsData) {
    TempDir dir;
    const fs::path f = dir.path() / "rt.safetensors";
    {
        sy::SafetensorsWriter w(f, {{"a", sy::DType::bf16, {3}}, {"b", sy::DType::f32, {2, 2}}}, {{"format", "pt"}});
        uint16_t a[3] = {1, 2, 3};
        float b[4] = {1, 2, 3, 4};
        w.write(a, sizeof a);
        w.write(b, sizeof b);
        w.finish();
    }
    auto h = sy::read_safetensors_header(f);
    EXPECT_EQ(h.data_offset % 8, 0u);
    ASSERT_EQ(h.tensors.size(), 2u);
    EXPECT_EQ(h.metadata.at("format"), "pt");
}

TEST(SafetensorsWriter, RefusesMissingBytes) {
    TempDir dir;
    sy::SafetensorsWriter w(dir.path() / "m.safetensors", {{"a", sy::DType::f32, {4}}}, {});
    float v = 0;
    w.write(&v, 4);
    EXPECT_THROW(w.finish(), sy::IoError);
}

// The duplicate-name check once rescanned the header object after every entry, so parsing was
// quadratic in tensors per file: 60,000 entries in one header took tens of seconds. Linear
// parsing takes well under a tenth of a second; the bound leaves room for a loaded machine.
TEST(SafetensorsHeader, HeaderWithSixtyThousandEntriesParsesInLinearTime) {
    TempDir dir;
    std::string header = R"({"__metadata__":{"format":"pt"})";
    const int entries = 60000;
    for (int i = 0; i < entries; ++i)
        header += ",\"model.layers." + std::to_string(i / 1000) + ".mlp.experts." + std::to_string(i % 1000) +
                  ".weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[" + std::to_string(4 * i) + "," +
                  std::to_string(4 * i + 4) + "]}";
    header += "}";
    const auto file = write_raw(dir.path() / "many.safetensors", header, 4 * entries);
    const auto start = std::chrono::steady_clock::now();
    const auto parsed = sy::read_safetensors_header(file);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(parsed.tensors.size(), std::size_t(entries));
    EXPECT_LT(seconds, 2.0);
}

TEST(SafetensorsHeader, UnknownEntryFieldsAreIgnoredAndBadMetadataNamed) {
    TempDir dir;
    const auto extra = write_raw(dir.path() / "extra.safetensors",
                                 R"({"a":{"x":{"y":[1,[2]]},"dtype":"F32","z":null,"shape":[2],"data_offsets":[0,8]}})", 8);
    const auto h = sy::read_safetensors_header(extra);
    ASSERT_EQ(h.tensors.size(), 1u);
    EXPECT_EQ(h.tensors[0].shape, (std::vector<int64_t>{2}));
    const auto meta = write_raw(dir.path() / "meta.safetensors",
                                R"({"__metadata__":{"format":["pt"]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4);
    EXPECT_NE(expect_error(meta).find("__metadata__ value of \"format\" is not a string"), std::string::npos);
    const auto nested = write_raw(dir.path() / "nested.safetensors", R"({"a":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}})", 4);
    EXPECT_NE(expect_error(nested).find("tensor a: shape dimension must be a non-negative integer"), std::string::npos);
    const auto offsets = write_raw(dir.path() / "offsets.safetensors", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4);
    EXPECT_NE(expect_error(offsets).find("tensor a: \"data_offsets\" must be [begin, end]"), std::string::npos);
    const auto array = write_raw(dir.path() / "array.safetensors", R"([1, 2])", 0);
    EXPECT_NE(expect_error(array).find("header is not a JSON object"), std::string::npos);
    const auto entry = write_raw(dir.path() / "entry.safetensors", R"({"a": 5})", 0);
    EXPECT_NE(expect_error(entry).find("tensor a: entry is not an object"), std::string::npos);
}
