import {
  BarController, BarElement, CategoryScale, Chart as ChartJS, Legend, LinearScale, LineController, LineElement,
  PointElement, Tooltip,
} from "chart.js";
import { Chart } from "react-chartjs-2";
import type { SalesReport } from "@commerce/client";
import { money } from "../format";

// Only the parts of Chart.js this chart uses (tree-shaken: the bundle stays small).
ChartJS.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale,
  Tooltip, Legend);

/** Revenue (bars, left axis) and orders (line, right axis) per day, one currency. */
export function SalesChart({ report }: { report: SalesReport }) {
  const days = report.by_day;
  const digits = report.currency === "JPY" ? 0 : 2;
  return (
    <figure className="chart">
      <div className="chart-box">
        <Chart
          type="bar"
          role="img"
          aria-label={`Revenue and orders per day in ${report.currency}, ${report.from} to ${report.to}`}
          data={{
            labels: days.map((d) => d.date.slice(5)),
            datasets: [
              { type: "bar", label: `Revenue (${report.currency})`, data: days.map((d) => d.revenue / 10 ** digits),
                backgroundColor: "#3563c9", yAxisID: "revenue" },
              { type: "line", label: "Orders", data: days.map((d) => d.orders), borderColor: "#c2410c",
                backgroundColor: "#c2410c", yAxisID: "orders", tension: 0.2 },
            ],
          }}
          options={{
            maintainAspectRatio: false,
            animation: false,
            scales: {
              revenue: { position: "left", beginAtZero: true },
              orders: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { precision: 0 } },
            },
            plugins: {
              tooltip: {
                callbacks: {
                  label: (item) => item.dataset.yAxisID === "revenue"
                    ? `Revenue ${money(days[item.dataIndex]!.revenue, report.currency)}`
                    : `Orders ${item.formattedValue}`,
                },
              },
            },
          }}
        />
      </div>
      <figcaption>
        {report.from} to {report.to}: {report.orders} orders, {money(report.revenue, report.currency)} revenue
      </figcaption>
    </figure>
  );
}
