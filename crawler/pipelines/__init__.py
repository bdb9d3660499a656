"""One small pipeline class per step: extract -> enrich -> dedupe -> write."""

from __future__ import annotations

PIPELINES = {
    "csrnews.crawler.pipelines.extract.ExtractPipeline": 100,
    "csrnews.crawler.pipelines.enrich.EnrichPipeline": 200,
    "csrnews.crawler.pipelines.dedupe.DedupePipeline": 300,
    "csrnews.crawler.pipelines.write.WritePipeline": 400,
}
