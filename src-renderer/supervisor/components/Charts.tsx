/**
 * SUP-2: the current shift in pictures (Chart.js): tasks completed per hour per department, and
 * claim conflicts, other refusals, rejections and expiries per hour. Hours are labelled in the
 * plant's time zone; each chart also has its numbers as a table for screen readers.
 */
import { BarElement, CategoryScale, Chart as ChartJS, Legend, LinearScale, Tooltip, type ChartOptions } from 'chart.js';
import { Bar } from 'react-chartjs-2';
import { useTranslation } from 'react-i18next';
import { formatClock } from '../format.js';
import { useCompletedPerHour, useExceptionsPerHour, type HourlySeries } from '../selectors.js';
import { useBoard, useUi } from '../stores/hooks.js';

ChartJS.register(BarElement, CategoryScale, LinearScale, Tooltip, Legend);
// Canvas text uses the page's font stack too, so Chinese labels draw with the bundled font.
ChartJS.defaults.font.family = "'Noto Sans SC', system-ui, 'Segoe UI', sans-serif";

const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#4d7c0f', '#be185d'];

function HourlyChart(props: { id: string; title: string; unit: string; data: HourlySeries; stacked: boolean; labelOf(id: string, label: string): string }) {
  const { t } = useTranslation();
  const tz = useBoard((s) => s.supervision.timeZone);
  const locale = useUi((s) => s.locale);
  const labels = props.data.slots.map((s) => formatClock(s, tz, locale));
  const options: ChartOptions<'bar'> = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } }, tooltip: { mode: 'index', intersect: false } },
    scales: {
      x: { stacked: props.stacked, title: { display: true, text: t('sv.charts.hour', { tz }) } },
      y: { stacked: props.stacked, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: props.unit } },
    },
  };
  const datasets = props.data.series.map((s, i) => ({
    label: props.labelOf(s.id, s.label),
    data: s.counts,
    backgroundColor: PALETTE[i % PALETTE.length],
  }));
  const total = props.data.series.reduce((n, s) => n + s.counts.reduce((a, b) => a + b, 0), 0);
  return (
    <figure className="sv-chart" data-testid={props.id} data-total={total}>
      <figcaption>{props.title}</figcaption>
      <div className="sv-chart-canvas">
        <Bar options={options} data={{ labels, datasets }} aria-label={props.title} role="img" />
      </div>
      <table className="sv-visually-hidden">
        <caption>{props.title}</caption>
        <thead>
          <tr>
            <th scope="col">{t('sv.charts.hour', { tz })}</th>
            {datasets.map((d) => (
              <th key={d.label} scope="col">
                {d.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {labels.map((l, i) => (
            <tr key={l}>
              <th scope="row">{l}</th>
              {datasets.map((d) => (
                <td key={d.label}>{d.data[i]}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

export function Charts() {
  const { t } = useTranslation();
  const completed = useCompletedPerHour();
  const exceptions = useExceptionsPerHour();
  return (
    <section className="sv-card sv-charts" aria-label={t('sv.charts.title')}>
      <HourlyChart
        id="sv-chart-completed"
        title={t('sv.charts.completed')}
        unit={t('sv.charts.tasksPerHour')}
        data={completed}
        stacked
        labelOf={(_id, label) => label}
      />
      <HourlyChart
        id="sv-chart-exceptions"
        title={t('sv.charts.exceptions')}
        unit={t('sv.charts.eventsPerHour')}
        data={exceptions}
        stacked={false}
        labelOf={(id) => t(`sv.charts.series.${id}`)}
      />
    </section>
  );
}
