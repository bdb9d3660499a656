"""The Scrapy project: spiders per source type, extraction, enrichment, dedupe, the story writer."""
