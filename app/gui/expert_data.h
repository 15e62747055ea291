#pragma once
// What the window knows about the open model's experts beyond a trace: calibration scores (a
// `switchyard score` file, opened or computed in the window) and expert x expert similarity
// matrices (`switchyard similarity`, one per MoE layer computed). The Experts table, the
// Similarity view and the edit stack read them from here. Main thread.
#include <QObject>
#include <QString>
#include <map>
#include <memory>

#include "switchyard/compute/expert_similarity.h"
#include "switchyard/core/expert_scores.h"

namespace sy {
struct Model;
}

namespace sy::gui {

class ExpertData : public QObject {
    Q_OBJECT
public:
    explicit ExpertData(QObject* parent = nullptr);

    // A new model forgets the scores and similarities of the previous one.
    void set_model(std::shared_ptr<const sy::Model> model);
    const std::shared_ptr<const sy::Model>& model() const { return m_model; }

    // Throws sy::UsageError when the scores were not computed from the open model.
    void set_scores(std::shared_ptr<const sy::ExpertScores> scores, const QString& path);
    const sy::ExpertScores* scores() const { return m_scores.get(); }
    std::shared_ptr<const sy::ExpertScores> shared_scores() const { return m_scores; }
    QString scores_path() const { return m_scores_path; }

    void set_similarity(std::shared_ptr<const sy::ExpertSimilarity> similarity);
    const sy::ExpertSimilarity* similarity(int layer) const;   // null when not computed

signals:
    void model_changed();
    void scores_changed();
    void similarity_changed(int layer);

private:
    std::shared_ptr<const sy::Model> m_model;
    std::shared_ptr<const sy::ExpertScores> m_scores;
    QString m_scores_path;
    std::map<int, std::shared_ptr<const sy::ExpertSimilarity>> m_similarity;
};

// The most similar other expert of `expert` by the best matrix computed (outputs, else aligned
// weights, else weights, else router rows); -1 when none. `cosine` and `kind` describe it.
int nearest_expert(const sy::ExpertSimilarity& similarity, int expert, double& cosine, QString& kind);

}  // namespace sy::gui
