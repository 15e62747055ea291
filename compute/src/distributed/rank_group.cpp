// RankGroup: messages and sums between ranks over c10d, every failure turned into one PeerError
// that names the other rank and what was being done (style.md rule 6).
#include <torch/torch.h>

#include <cstring>

#include "rank_group_impl.h"
#include "switchyard/core/errors.h"

namespace sy {
namespace {

// Gloo reports a dead peer as an I/O error on the socket and a silent one as a timeout; the
// texts are Gloo's (gloo/transport/tcp/pair.cc, unbound_buffer.cc).
bool is_timeout(const std::string& text) {
    return text.find("Timed out") != std::string::npos || text.find("timed out") != std::string::npos ||
           text.find("Timeout") != std::string::npos;
}

std::string error_text(const std::exception& error) {
    if (const auto* c10 = dynamic_cast<const c10::Error*>(&error)) return c10->what_without_backtrace();
    return error.what();
}

std::string seconds_text(std::chrono::milliseconds ms) {
    const double s = double(ms.count()) / 1000.0;
    char text[32];
    std::snprintf(text, sizeof text, s == double(int64_t(s)) ? "%.0f s" : "%.1f s", s);
    return text;
}

torch::Tensor byte_tensor(std::vector<uint8_t>& bytes) {
    return torch::from_blob(bytes.data(), {static_cast<int64_t>(bytes.size())}, torch::kUInt8);
}

// Tags keep a message's header and payload apart on the pair (Gloo matches p2p by tag).
constexpr int k_header_tag = 1, k_payload_tag = 2;

}  // namespace

void RankGroup::Impl::rethrow(const std::exception& error, const std::string& what, int peer) const {
    const std::string text = error_text(error);
    const std::string who = peer >= 0 ? "rank " + std::to_string(peer) : "a rank";
    if (is_timeout(text))
        throw PeerError(who + " did not answer within " + seconds_text(timeout) + " (--timeout) while " + what +
                        ": it is stuck, stopped or much slower than the others");
    throw PeerError("lost contact with " + who + " while " + what + " (it exited or was killed): " + text);
}

void RankGroup::Impl::wait(const c10::intrusive_ptr<c10d::Work>& work, const std::string& what, int peer,
                           std::chrono::milliseconds timeout_override) const {
    try {
        const auto limit = timeout_override.count() > 0 ? timeout_override : timeout;
        if (!work->wait(limit))
            throw std::runtime_error("Timed out waiting " + std::to_string(limit.count()) + " ms");
    } catch (const PeerError&) {
        throw;
    } catch (const std::exception& e) {
        rethrow(e, what, peer);
    }
}

RankGroup::RankGroup(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
RankGroup::~RankGroup() = default;

int RankGroup::rank() const { return m_impl->options.rank; }
int RankGroup::size() const { return m_impl->options.world_size; }
const ParallelOptions& RankGroup::options() const { return m_impl->options; }
const std::string& RankGroup::backend() const { return m_impl->backend; }
double RankGroup::timeout_s() const { return double(m_impl->timeout.count()) / 1000.0; }

void RankGroup::send(int to, const RankMessage& message, const std::string& what) {
    std::vector<int64_t> header{static_cast<int64_t>(message.kind), static_cast<int64_t>(message.bytes.size())};
    std::vector<at::Tensor> head{torch::from_blob(header.data(), {2}, torch::kInt64)};
    m_impl->run([&] { return m_impl->host->send(head, to, k_header_tag); }, what, to);
    if (message.bytes.empty()) return;
    std::vector<uint8_t> bytes = message.bytes;   // Gloo reads the buffer until the send completes
    std::vector<at::Tensor> payload{byte_tensor(bytes)};
    m_impl->run([&] { return m_impl->host->send(payload, to, k_payload_tag); }, what, to);
}

RankMessage RankGroup::receive(int from, const std::string& what, double timeout_s) {
    const auto limit = std::chrono::milliseconds(int64_t(timeout_s * 1000));
    std::vector<int64_t> header(2, 0);
    std::vector<at::Tensor> head{torch::from_blob(header.data(), {2}, torch::kInt64)};
    c10::intrusive_ptr<c10d::Work> work;
    try {
        work = m_impl->host->recv(head, from, k_header_tag);
    } catch (const std::exception& e) {
        m_impl->rethrow(e, what, from);
    }
    m_impl->wait(work, what, from, limit);
    SY_CHECK(header[0] >= 0 && header[0] <= static_cast<int64_t>(RankMessage::Kind::stop) && header[1] >= 0, PeerError,
             "rank " + std::to_string(from) + " sent a malformed message while " + what +
                 " (do all ranks run the same switchyard version?)");
    RankMessage message;
    message.kind = static_cast<RankMessage::Kind>(header[0]);
    message.bytes.resize(static_cast<std::size_t>(header[1]));
    if (message.bytes.empty()) return message;
    std::vector<at::Tensor> payload{byte_tensor(message.bytes)};
    m_impl->run([&] { return m_impl->host->recv(payload, from, k_payload_tag); }, what, from);
    return message;
}

void RankGroup::sum(std::vector<double>& values, const std::string& what) {
    if (values.empty()) return;
    std::vector<at::Tensor> t{torch::from_blob(values.data(), {static_cast<int64_t>(values.size())}, torch::kFloat64)};
    m_impl->run([&] { return m_impl->host->allreduce(t); }, what);
}

void RankGroup::sum(std::vector<int64_t>& values, const std::string& what) {
    if (values.empty()) return;
    std::vector<at::Tensor> t{torch::from_blob(values.data(), {static_cast<int64_t>(values.size())}, torch::kInt64)};
    m_impl->run([&] { return m_impl->host->allreduce(t); }, what);
}

void RankGroup::sum(float* values, int64_t count, const std::string& device, const std::string& what) {
    if (count == 0) return;
    const torch::Device where(device);
    const torch::Tensor t = torch::from_blob(values, {count}, torch::TensorOptions().dtype(torch::kFloat32).device(where));
    if (where.is_cuda() && m_impl->backend == "nccl") {
        std::vector<at::Tensor> v{t};
        m_impl->run([&] { return m_impl->device->allreduce(v); }, what);
        return;
    }
    std::vector<at::Tensor> host{where.is_cuda() ? t.to(torch::kCPU) : t};
    m_impl->run([&] { return m_impl->host->allreduce(host); }, what);
    if (where.is_cuda()) t.copy_(host.front());
}

}  // namespace sy
