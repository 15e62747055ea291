#include "expert_data.h"

#include <cmath>

#include "switchyard/core/model.h"

namespace sy::gui {

ExpertData::ExpertData(QObject* parent) : QObject(parent) {}

void ExpertData::set_model(std::shared_ptr<const sy::Model> model) {
    m_model = std::move(model);
    m_scores.reset();
    m_scores_path.clear();
    m_similarity.clear();
    emit model_changed();
    emit scores_changed();
}

void ExpertData::set_scores(std::shared_ptr<const sy::ExpertScores> scores, const QString& path) {
    if (scores && m_model) sy::check_scores_match(*scores, *m_model, path.toStdString());
    m_scores = std::move(scores);
    m_scores_path = path;
    emit scores_changed();
}

void ExpertData::set_similarity(std::shared_ptr<const sy::ExpertSimilarity> similarity) {
    const int layer = similarity->layer;
    m_similarity[layer] = std::move(similarity);
    emit similarity_changed(layer);
}

const sy::ExpertSimilarity* ExpertData::similarity(int layer) const {
    const auto it = m_similarity.find(layer);
    return it == m_similarity.end() ? nullptr : it->second.get();
}

int nearest_expert(const sy::ExpertSimilarity& s, int expert, double& cosine, QString& kind) {
    const std::pair<const std::vector<double>*, const char*> matrices[] = {
        {&s.outputs, "outputs"}, {&s.weights_aligned, "aligned weights"}, {&s.weights_unaligned, "weights"}, {&s.router, "router"}};
    const int64_t experts = s.experts;
    for (const auto& [matrix, name] : matrices) {
        if (matrix->size() != static_cast<std::size_t>(experts * experts) || expert < 0 || expert >= experts) continue;
        int best = -1;
        for (int j = 0; j < experts; ++j) {
            const double value = (*matrix)[static_cast<std::size_t>(expert * experts + j)];
            if (j == expert || std::isnan(value)) continue;
            if (best < 0 || value > cosine) {
                best = j;
                cosine = value;
            }
        }
        if (best >= 0) {
            kind = QString::fromLatin1(name);
            return best;
        }
    }
    return -1;
}

}  // namespace sy::gui
