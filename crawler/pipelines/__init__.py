"""One small pipeline class per step: extract -> enrich -> dedupe -> write."""

from __future__ import annotations

PIPELINES = {
    "crawler.pipelines.extract.ExtractPipeline": 100,
    "crawler.pipelines.enrich.EnrichPipeline": 200,
    "crawler.pipelines.dedupe.DedupePipeline": 300,
    "crawler.pipelines.write.WritePipeline": 400,
}
