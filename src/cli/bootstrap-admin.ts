import { startApp } from 'src/app/bootstrap';
import { AppConfig } from 'src/config/app-config';
import { systemActor } from 'src/common/actor';
import { PrincipalsService } from 'src/auth/principals.service';

/** Creates the first admin and prints its key once, on stdout, so it can be captured by a script. */
export async function runBootstrapAdmin(config: AppConfig, name: string, force: boolean): Promise<void> {
  const started = await startApp('api', { ...config, LOG_LEVEL: 'warn' }, false);
  try {
    const created = await started.app
      .get(PrincipalsService)
      .bootstrapAdmin(systemActor('bootstrap'), name, force);
    console.error(
      `Created API key ${created.apiKey.prefix} for admin "${name}". It is shown once; store it now:`,
    );
    console.log(created.token);
  } finally {
    await started.stop();
  }
}
