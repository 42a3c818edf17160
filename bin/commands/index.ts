/** The subcommands of `track-embeddings`, each loaded only when it runs. */
import type { CommandEntry } from '../../lib/cli/program.ts';

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'embed', summary: 'Embed a tracks Parquet file on this machine', load: async () => (await import('./embed.ts')).command },
  {
    name: 'similar',
    summary: 'Find the tracks nearest to a track or a playlist',
    load: async () => (await import('./similar.ts')).command,
  },
  {
    name: 'transform',
    summary: 'Embed new tracks with a scaler fitted earlier',
    load: async () => (await import('./transform.ts')).command,
  },
  {
    name: 'explore',
    summary: 'Search, list neighbours and map an output folder in a local web page',
    load: async () => (await import('./explore.ts')).command,
  },
  { name: 'generate', summary: 'Write a realistic tracks Parquet file', load: async () => (await import('./generate.ts')).command },
  {
    name: 'pipeline-local',
    summary: 'Run the serverless pipeline locally (local S3 API + Lambda endpoint)',
    load: async () => (await import('./pipeline-local.ts')).command,
  },
  { name: 'status', summary: 'Where the job of an uploaded object stands', load: async () => (await import('./status.ts')).command },
  {
    name: 'redrive',
    summary: 'Run a failed job again, or replay the events that started none',
    load: async () => (await import('./redrive.ts')).command,
  },
];
