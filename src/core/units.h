// Human-friendly sizes. Conventions (docs/mixing.md, paper.md "Packing"):
//  - byte sizes: "10GB" = 10^10 bytes, "10GiB" = 10 * 2^30, "500MB", plain numbers are bytes;
//  - token budgets: K/M/B/T = 10^3/10^6/10^9/10^12 ("5B" = 5e9 tokens);
//  - sequence and context lengths: K = 1024 ("80K" = 81,920; "128K" = 131,072).
#pragma once
#include <cstdint>
#include <string>

#include "core/status.h"

namespace longctx {

Result<uint64_t> parse_byte_size(const std::string& s);
Result<uint64_t> parse_token_count(const std::string& s);
Result<uint64_t> parse_seq_len(const std::string& s);
std::string format_bytes(double bytes);     // "1.23 GB"
std::string format_count(double n);         // "1.23M"
// A sequence or context length in the K = 1024 convention, exact: the largest of M (2^20) and K
// (2^10) in which the length has at most two decimals, else the plain number: 256 -> "256",
// 1536 -> "1.5K", 65536 -> "64K", 1048576 -> "1M", 1100 -> "1100". parse_seq_len reads it back.
std::string format_length(uint64_t tokens);
std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

}  // namespace longctx
