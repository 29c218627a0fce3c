"""A part through the model's input stage and one bundle: its source row, read and prepared
(mesh, points, views, description, light GLB), then encoded. The reindex job runs these stages
in Ray Data (data_jobs/index/); the service runs them to index one uploaded part."""
