#include "forward/token_embedding.h"

#include <torch/torch.h>

namespace sy {

torch::Tensor embed_tokens(const torch::Tensor& table, const torch::Tensor& ids, torch::ScalarType dtype) {
    return table.index_select(0, ids).to(dtype);
}

}  // namespace sy
