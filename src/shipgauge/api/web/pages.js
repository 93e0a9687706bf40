// The dashboard's pages: each panel names the SQL model it reads and how to draw it.
// A panel whose model is not in this store (capability not loaded) says so instead of failing.
window.SHIPGAUGE_PAGES = {
  overview: {
    title: "Overview",
    panels: [
      { title: "Ingest status", model: "ingest_status", table: true },
      { title: "Dead letters by source", model: "dead_letter_summary",
        chart: { type: "bar", x: "source", y: "letters" } },
    ],
  },
};
