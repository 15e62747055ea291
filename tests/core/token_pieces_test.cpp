// Readable vocabulary pieces: byte-level and SentencePiece spellings of the same bytes give the
// same text, with visible marks for spaces, newlines and tabs, and split characters shown as bytes.
#include <gtest/gtest.h>

#include "switchyard/core/token_pieces.h"
#include "switchyard/core/tokenizer.h"
#include "test_paths.h"

namespace sy::test {
namespace {

TEST(TokenPieces, ByteLevelPiecesBecomeTheirBytes) {
    EXPECT_EQ(piece_bytes("\xC4\xA0the", PieceStyle::byte_level), " the");    // "Ġthe"
    EXPECT_EQ(piece_bytes("\xC4\x8A", PieceStyle::byte_level), "\n");         // "Ċ"
    EXPECT_EQ(piece_bytes("\xC3\xA9", PieceStyle::byte_level), "\xE9");       // "é" is byte 0xE9
    EXPECT_EQ(piece_bytes("<|endoftext|>", PieceStyle::byte_level), "<|endoftext|>");
}

TEST(TokenPieces, SentencePiecePiecesBecomeTheirBytes) {
    EXPECT_EQ(piece_bytes("\xE2\x96\x81the", PieceStyle::sentencepiece), " the");   // "▁the"
    EXPECT_EQ(piece_bytes("<0x0A>", PieceStyle::sentencepiece), "\n");
    EXPECT_EQ(piece_bytes("\xC3\xA9t\xC3\xA9", PieceStyle::sentencepiece), "\xC3\xA9t\xC3\xA9");   // "été" stays
    EXPECT_EQ(piece_bytes("<0xZZ>", PieceStyle::sentencepiece), "<0xZZ>");
}

TEST(TokenPieces, ReadableTextMarksWhitespaceAndBrokenBytes) {
    EXPECT_EQ(readable_text(" the"), "\xE2\x90\xA3the");              // "␣the"
    EXPECT_EQ(readable_text("\n"), "\xE2\x86\xB5");                   // "↵"
    EXPECT_EQ(readable_text("\tx"), "\xE2\x87\xA5x");                 // "⇥x"
    EXPECT_EQ(readable_text("a\x01"), "a<0x01>");
    EXPECT_EQ(readable_text("\xE2\x82"), "<0xE2><0x82>");             // first two bytes of "€"
    EXPECT_EQ(readable_text("\xE2\x82\xAC"), "\xE2\x82\xAC");         // "€" whole
    EXPECT_EQ(readable_piece("", PieceStyle::byte_level), "");
}

TEST(TokenPieces, StyleIsDecidedOncePerVocabulary) {
    EXPECT_EQ(vocabulary_piece_style({"a", "\xC4\xA0the", "\xC4\x8A", "\xC3\xA9"}), PieceStyle::byte_level);
    EXPECT_EQ(vocabulary_piece_style({"a", "\xE2\x96\x81the", "<0x0A>", "\xC3\xA9"}), PieceStyle::sentencepiece);
}

TEST(TokenPieces, EveryPieceOfTheBundledTokenizerReadsAsItsDecodedText) {
    // The tokenizer's own decoder is the reference: a piece's bytes are what decoding its id gives
    // (for pieces that are whole UTF-8 text; the marks replace only whitespace).
    const Tokenizer tokenizer = Tokenizer::from_file((examples_dir() / "tiny-mixtral" / "tokenizer.json").string());
    std::vector<std::string> vocab;
    for (int32_t id = 0; id < tokenizer.id_count(); ++id) vocab.push_back(tokenizer.token_string(id));
    ASSERT_EQ(vocabulary_piece_style(vocab), PieceStyle::byte_level);
    int checked = 0;
    for (int32_t id = 0; id < tokenizer.id_count(); ++id) {
        const std::string bytes = piece_bytes(vocab[static_cast<std::size_t>(id)], PieceStyle::byte_level);
        const std::string decoded = tokenizer.decode({id});
        if (decoded.find("\xEF\xBF\xBD") != std::string::npos) continue;   // a split character: U+FFFD
        EXPECT_EQ(bytes, decoded) << "id " << id;
        const std::string readable = readable_text(bytes);
        EXPECT_EQ(readable.find("\xC4\xA0"), std::string::npos) << "id " << id;   // no "Ġ" left
        ++checked;
    }
    EXPECT_GT(checked, 1000);
}

}  // namespace
}  // namespace sy::test
