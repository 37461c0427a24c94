import { Body, Controller, Get, Post, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { Auth, CheckPolicy, LimitedAsGeneration } from 'src/auth/auth.decorators';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { OpenAiExceptionFilter } from 'src/serving/openai/openai-exception.filter';
import { OpenAiService } from 'src/serving/openai/openai.service';

/**
 * OpenAI-compatible HTTP API: `model` is a channel name or an adapter version id; the bearer token is a
 * sealgate API key. Bodies are checked by OpenAiService against OpenAI's own field names.
 */
@Controller('v1')
@UseFilters(OpenAiExceptionFilter)
export class OpenAiController {
  constructor(private readonly openai: OpenAiService) {}

  @Get('models')
  @CheckPolicy(Action.query, Subject.Model)
  models() {
    return this.openai.models();
  }

  @Post('completions')
  @CheckPolicy(Action.query, Subject.Model)
  @LimitedAsGeneration()
  completions(@Auth() auth: AuthContext, @Body() body: unknown, @Res() res: Response): Promise<void> {
    return this.openai.completions(auth, body, res);
  }

  @Post('chat/completions')
  @CheckPolicy(Action.query, Subject.Model)
  @LimitedAsGeneration()
  chat(@Auth() auth: AuthContext, @Body() body: unknown, @Res() res: Response): Promise<void> {
    return this.openai.chat(auth, body, res);
  }
}
