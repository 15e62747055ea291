#pragma once
// Vocabulary pieces as people read them. A trace stores each token's vocabulary string as the
// tokenizer file spells it: GPT-2 byte-level pieces ("Ġthe" for " the", "Ċ" for "\n",
// formats.md §12.7) or SentencePiece pieces ("▁the", byte fallback "<0x0A>", formats.md §12.4).
// These turn a piece back into its bytes and then into one line of text with visible marks:
// "␣" for a space, "↵" for a newline, "⇥" for a tab, "<0xNN>" for any other control byte and
// for bytes that are not valid UTF-8 on their own (a character split across tokens).
// Pure functions; any thread.
#include <string>
#include <string_view>
#include <vector>

namespace sy {

enum class PieceStyle { byte_level, sentencepiece };

// A vocabulary is byte-level when more of its pieces use the byte-level space/newline
// characters (U+0120 "Ġ", U+010A "Ċ") than SentencePiece's U+2581 "▁"; one style per tokenizer,
// never per piece (a SentencePiece "é" is not the byte-level spelling of byte 0xE9).
PieceStyle vocabulary_piece_style(const std::vector<std::string>& vocab);

// The bytes a piece stands for. Byte-level: each character mapped back to its byte (a piece
// holding characters outside the alphabet, an added token such as "<|endoftext|>", is returned
// as it is); SentencePiece: "▁" -> ' ' and "<0xNN>" -> byte NN.
std::string piece_bytes(std::string_view piece, PieceStyle style);

// Bytes as one readable line with the visible marks above.
std::string readable_text(std::string_view bytes);

// readable_text(piece_bytes(piece, style)); "" stays "".
std::string readable_piece(std::string_view piece, PieceStyle style);

}  // namespace sy
