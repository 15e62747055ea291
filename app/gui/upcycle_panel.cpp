#include "upcycle_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "switchyard/core/errors.h"
#include "switchyard/core/family.h"

namespace sy::gui {

UpcyclePanel::UpcyclePanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* form = new QFormLayout;
    m_family = new QComboBox(this);
    m_family->addItem(tr("first that fits"), QString());
    for (const sy::FamilySpec& spec : sy::family_table())
        if (spec.is_moe()) m_family->addItem(QString::fromStdString(std::string(spec.model_type)), QString::fromStdString(std::string(spec.model_type)));
    m_family->setToolTip(tr("Target MoE family (--family); the default keeps the source's attention unchanged"));
    form->addRow(tr("Family"), m_family);
    m_experts = new QSpinBox(this);
    m_experts->setRange(1, 4096);
    m_experts->setValue(8);
    form->addRow(tr("Experts"), m_experts);
    m_top_k = new QSpinBox(this);
    m_top_k->setRange(1, 4096);
    m_top_k->setValue(2);
    form->addRow(tr("Top-k"), m_top_k);
    m_router = new QComboBox(this);
    m_router->addItems({QStringLiteral("random"), QStringLiteral("zero"), QStringLiteral("hidden")});
    m_router->setToolTip(tr("random: N(0, 0.02²) seeded; zero: all experts equal; hidden: each expert's row from the mean hidden "
                            "state of its prompts (Prompts file)"));
    form->addRow(tr("Router"), m_router);
    m_prompts = new QLineEdit(this);
    m_prompts->setPlaceholderText(tr("prompts .jsonl with a domain per expert (router hidden)"));
    form->addRow(tr("Prompts"), m_prompts);
    m_drop = new QDoubleSpinBox(this);
    m_drop->setRange(0, 1);
    m_drop->setSingleStep(0.1);
    m_drop->setDecimals(2);
    m_drop->setToolTip(tr("Drop-Upcycling: re-initialise this fraction of each expert's neurons"));
    form->addRow(tr("Drop rate"), m_drop);
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, 1 << 30);
    form->addRow(tr("Seed"), m_seed);
    m_granularity = new QSpinBox(this);
    m_granularity->setRange(1, 1024);
    m_granularity->setToolTip(tr("Fine-grained experts: each holds 1/G of the FFN's neurons"));
    form->addRow(tr("Granularity"), m_granularity);
    m_shared = new QCheckBox(tr("always-on shared expert (a copy of the FFN)"), this);
    form->addRow(QString(), m_shared);
    layout->addLayout(form);
    auto* add = new QPushButton(tr("Add upcycle to the stack"), this);
    layout->addWidget(add);
    connect(add, &QPushButton::clicked, this, &UpcyclePanel::add_requested);
}

void UpcyclePanel::set_experts(int experts, int top_k) {
    m_experts->setValue(experts);
    m_top_k->setValue(top_k);
}

sy::UpcycleOptions UpcyclePanel::options() const {
    sy::UpcycleOptions o;
    o.family = m_family->currentData().toString().toStdString();
    o.experts = m_experts->value();
    o.top_k = m_top_k->value();
    o.router = sy::parse_upcycle_router(m_router->currentText().toStdString());
    if (o.router == sy::UpcycleRouter::hidden) {
        SY_CHECK(!m_prompts->text().trimmed().isEmpty(), UsageError, "router hidden needs a prompts file (.jsonl with a domain per record)");
        o.prompts = m_prompts->text().trimmed().toStdString();
    }
    o.drop_rate = m_drop->value();
    o.seed = static_cast<uint64_t>(m_seed->value());
    o.granularity = m_granularity->value();
    o.shared_expert = m_shared->isChecked();
    return o;
}

}  // namespace sy::gui
